//! The upload store end to end: the real binary (demo mode, upload-policy
//! active) over HTTP.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a failure is a panic

use std::path::Path;
use std::time::Duration;

use futures_util::future::join_all;
use hangar_testkit::server::Server;
use hangar_testkit::uploads::{Store, chunk_of, md5_hex, pattern, sha256_hex};
use reqwest::Method;
use serde_json::{Value, json};

const MIB: usize = 1 << 20;

fn id(v: &Value) -> String {
    v["id"].as_str().unwrap().to_owned()
}

fn file_id(v: &Value) -> String {
    v["file"]["id"].as_str().unwrap().to_owned()
}

fn files_under(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(files_under(&path));
        } else {
            out.push(path);
        }
    }
    out
}

async fn chunks_in_any_order_and_in_parallel_merge_into_the_exact_file() {
    let store = Store::start(&[]);
    let alice = store.api("alice", "customer").await;
    let data = pattern(23 * MIB + 12_345, 1);
    let (status, upload) = alice.open("lecture.zip", &data, false).await;
    assert_eq!(status, 201, "{upload}");
    assert_eq!(upload["chunk_size"], 8 * MIB as u64);
    assert_eq!(upload["chunk_count"], 3);
    assert_eq!(upload["received"], json!([]));

    // Last chunk first, then the others at once.
    let (status, _) = alice.put_chunk(&upload, &data, 2).await;
    assert_eq!(status, 201);
    let sends = join_all([0, 1, 1].map(|i| alice.put_chunk(&upload, &data, i))).await;
    for (status, body) in &sends {
        assert!(*status == 201 || *status == 200, "{status} {body}");
    }
    // Sending a stored chunk again changes nothing.
    let (status, body) = alice.put_chunk(&upload, &data, 0).await;
    assert_eq!((status, &body["stored"]), (200, &json!(false)));

    // Chunk 2 came first, with nothing before it on its way: verified on
    // its own, merged later.
    let logged = chunk_log(store.server(), &id(&upload), 3).await;
    assert_eq!(logged.first(), Some(&(2, false)), "{logged:?}");

    let (status, done) = alice.complete(&id(&upload)).await;
    assert_eq!(status, 200, "{done}");
    assert_eq!(done["file"]["md5"], md5_hex(&data));
    assert_eq!(done["file"]["sha256"], sha256_hex(&data));
    let file = file_id(&done);
    // Completing again answers the same file.
    let (status, again) = alice.complete(&id(&upload)).await;
    assert_eq!((status, file_id(&again)), (200, file.clone()));

    let whole = alice.download(&file, &[]).await;
    assert_eq!(whole.status, 200);
    assert!(whole.body == data, "downloaded bytes differ");
    assert_eq!(whole.headers["x-content-type-options"], "nosniff");
    assert!(
        whole.headers["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment;")
    );
    assert_eq!(whole.headers["accept-ranges"], "bytes");

    // Ranges: bounded, open-ended, suffix; unsatisfiable is 416.
    let part = alice.download(&file, &[("range", "bytes=100-199")]).await;
    assert_eq!(part.status, 206);
    assert_eq!(part.body, &data[100..200]);
    assert_eq!(
        part.headers["content-range"],
        format!("bytes 100-199/{}", data.len()).as_str()
    );
    let from = data.len() - 1000;
    let tail = alice
        .download(&file, &[("range", &format!("bytes={from}-"))])
        .await;
    assert_eq!((tail.status, tail.body.as_slice()), (206, &data[from..]));
    let suffix = alice.download(&file, &[("range", "bytes=-10")]).await;
    assert_eq!(suffix.body, &data[data.len() - 10..]);
    let beyond = alice
        .download(&file, &[("range", &format!("bytes={}-", data.len() + 5))])
        .await;
    assert_eq!(beyond.status, 416);
    let head = alice
        .fetch(Method::HEAD, &format!("/files/{file}"), &[], false)
        .await;
    assert_eq!(head.status, 200);
    assert_eq!(
        head.headers["content-length"],
        data.len().to_string().as_str()
    );
    assert!(head.body.is_empty());

    // Access: another customer gets nothing; an agent may read; no token is 401.
    let eve = store.api("eve", "customer").await;
    assert_eq!(eve.download(&file, &[]).await.status, 404);
    assert_eq!(eve.status(&id(&upload)).await.0, 404);
    let agent = store.api("agent-1", "agent").await;
    assert_eq!(
        agent.download(&file, &[("range", "bytes=0-9")]).await.body,
        &data[..10]
    );
    let anonymous = alice
        .fetch(Method::GET, &format!("/files/{file}"), &[], true)
        .await;
    assert_eq!(anonymous.status, 401);

    // A signed link works without a token; a tampered one does not; a
    // user who cannot read the file cannot get a link.
    let (status, link) = alice.link(&file).await;
    assert_eq!(status, 200, "{link}");
    let url = link["url"].as_str().unwrap();
    let by_link = alice
        .fetch(Method::GET, url, &[("range", "bytes=0-3")], true)
        .await;
    assert_eq!((by_link.status, by_link.body.as_slice()), (206, &data[..4]));
    let tampered = url.replace("sig=", "sig=00");
    assert_eq!(
        alice.fetch(Method::GET, &tampered, &[], true).await.status,
        403
    );
    let other_file = url.replace(&file, "f_00000000000000000000000000000000");
    assert_eq!(
        alice
            .fetch(Method::GET, &other_file, &[], true)
            .await
            .status,
        403
    );
    assert_eq!(eve.link(&file).await.0, 404);
}

/// `(index, merged)` of the stored chunks of `upload`, from the server log,
/// once it shows `count` of them (the log is read from a pipe, a moment
/// behind the answers).
async fn chunk_log(server: &Server, upload: &str, count: usize) -> Vec<(u32, bool)> {
    for _ in 0..100 {
        let logged = logged_chunks(server, upload);
        if logged.len() >= count {
            return logged;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    logged_chunks(server, upload)
}

fn logged_chunks(server: &Server, upload: &str) -> Vec<(u32, bool)> {
    server
        .log()
        .iter()
        .filter(|line| line.contains("chunk received") && line.contains(upload))
        .filter(|line| line.contains("stored=true"))
        .filter_map(|line| {
            let field = |name: &str| {
                line.split_whitespace()
                    .find_map(|w| w.strip_prefix(name).map(str::to_owned))
            };
            Some((field("index=")?.parse().ok()?, field("merged=")? == "true"))
        })
        .collect()
}

#[tokio::test]
async fn chunks_in_file_order_are_hashed_once_for_themselves_and_the_file() {
    let store = Store::start(&[]);
    let alice = store.api("alice", "customer").await;
    // Odd-sized preference: rounded up to 64 KiB so chunks stay block-aligned.
    let chunk = 5 * MIB + 64 * 1024;
    let data = pattern(3 * chunk + 1234, 9);
    let open = json!({"name": "a.zip", "size": data.len(), "md5": md5_hex(&data), "chunk_size": 5 * MIB + 1});
    let (status, upload) = alice.open_raw(&open).await;
    assert_eq!(status, 201, "{upload}");
    assert_eq!(upload["chunk_size"], chunk as u64);
    assert_eq!(upload["chunk_count"], 4);
    // Chunk 1 with a wrong MD5 while it is the merge's turn changes nothing.
    assert_eq!(alice.put_chunk(&upload, &data, 0).await.0, 201);
    let second = chunk_of(&upload, &data, 1).to_vec();
    let (status, _) = alice
        .put_chunk_raw(&id(&upload), "1", second, Some(&md5_hex(b"not it")))
        .await;
    assert_eq!(status, 422);
    for index in 1..4 {
        assert_eq!(alice.put_chunk(&upload, &data, index).await.0, 201);
    }
    assert_eq!(
        chunk_log(store.server(), &id(&upload), 4).await,
        [(0, true), (1, true), (2, true), (3, true)],
        "every chunk sent in order joins the merge in the pass that verifies it"
    );
    let (status, done) = alice.complete(&id(&upload)).await;
    assert_eq!(status, 200, "{done}");
    assert_eq!(done["file"]["md5"], md5_hex(&data));
    assert_eq!(done["file"]["sha256"], sha256_hex(&data));
    assert!(alice.download(&file_id(&done), &[]).await.body == data);
}

async fn opening_again_resumes_with_the_chunks_already_received() {
    let store = Store::start(&[]);
    let alice = store.api("alice", "customer").await;
    let data = pattern(3 * 5 * MIB + 7, 2);
    let mut open = json!({"name": "notes.txt", "size": data.len(), "md5": md5_hex(&data), "chunk_size": 5 * MIB});
    let (status, upload) = alice.open_raw(&open).await;
    assert_eq!((status, upload["chunk_count"].as_u64()), (201, Some(4)));
    for index in [0, 2] {
        assert_eq!(alice.put_chunk(&upload, &data, index).await.0, 201);
    }
    // Opened again (even with another preferred size): same upload, same cut.
    open["chunk_size"] = json!(9 * MIB);
    let (status, resumed) = alice.open_raw(&open).await;
    assert_eq!(status, 200, "{resumed}");
    assert_eq!(id(&resumed), id(&upload));
    assert_eq!(resumed["received"], json!([0, 2]));
    assert_eq!(resumed["chunk_size"], upload["chunk_size"]);
    let (_, status_view) = alice.status(&id(&upload)).await;
    assert_eq!(status_view["received"], json!([0, 2]));
    // Another user opening the same file gets an upload of their own.
    let bob = store.api("bob", "customer").await;
    let (status, bobs) = bob.open_raw(&open).await;
    assert_eq!(status, 201);
    assert_ne!(id(&bobs), id(&upload));

    for index in [1, 3] {
        assert_eq!(alice.put_chunk(&upload, &data, index).await.0, 201);
    }
    let (status, done) = alice.complete(&id(&upload)).await;
    assert_eq!(status, 200, "{done}");
    assert!(alice.download(&file_id(&done), &[]).await.body == data);
}

async fn instant_upload_needs_a_correct_proof_and_reveals_nothing_without_one() {
    let store = Store::start(&[]);
    let alice = store.api("alice", "customer").await;
    let data = pattern(6 * MIB + 3, 3);
    let (status, done) = alice.upload("slides.pdf", &data).await;
    assert_eq!(status, 200, "{done}");

    // Bob knows the hashes only: he gets a challenge, answers wrong, and is
    // told to upload, exactly as for content the server does not hold.
    let bob = store.api("bob", "customer").await;
    let (status, upload) = bob.open("slides.pdf", &data, true).await;
    assert_eq!(status, 201);
    let challenge = upload["challenge"].clone();
    assert!(
        challenge["length"].as_u64().unwrap() >= 64 * 1024,
        "{challenge}"
    );
    let zeros = vec![0u8; challenge["length"].as_u64().unwrap() as usize];
    let (status, answer) = bob.prove(&id(&upload), &md5_hex(&zeros)).await;
    assert_eq!(
        (status, &answer["instant"]),
        (200, &json!(false)),
        "{answer}"
    );
    assert!(answer["upload"]["challenge"].is_object(), "{answer}");
    assert_eq!(answer["upload"]["proof_used"], true, "{answer}");
    // One try per upload.
    let (status, again) = bob.prove(&id(&upload), &md5_hex(&zeros)).await;
    assert_eq!(
        (status, again["error"]["code"].as_str()),
        (409, Some("proof-used"))
    );
    // Bob cannot read Alice's file.
    assert_eq!(bob.download(&file_id(&done), &[]).await.status, 404);

    // Unknown content gets the same shape of answer.
    let dave = store.api("dave", "customer").await;
    let unknown = pattern(6 * MIB + 3, 99);
    let (_, upload_unknown) = dave.open("other.pdf", &unknown, true).await;
    let range = |d: &[u8], c: &Value| {
        let (o, l) = (
            c["offset"].as_u64().unwrap() as usize,
            c["length"].as_u64().unwrap() as usize,
        );
        md5_hex(&d[o..o + l])
    };
    let right_answer = range(&unknown, &upload_unknown["challenge"]);
    let (status, answer) = dave.prove(&id(&upload_unknown), &right_answer).await;
    assert_eq!((status, &answer["instant"]), (200, &json!(false)));
    let keys = |v: &Value| v.as_object().unwrap().keys().cloned().collect::<Vec<_>>();
    assert_eq!(
        keys(&answer),
        keys(&json!({"instant": false, "upload": {}}))
    );

    // Carol has the bytes: her proof completes the upload at once, and the
    // file is hers to read.
    let carol = store.api("carol", "customer").await;
    let (_, upload) = carol.open("copy.pdf", &data, true).await;
    let (status, answer) = carol
        .prove(&id(&upload), &range(&data, &upload["challenge"]))
        .await;
    assert_eq!(
        (status, &answer["instant"]),
        (200, &json!(true)),
        "{answer}"
    );
    let carols = answer["file"]["id"].as_str().unwrap().to_owned();
    assert_ne!(carols, file_id(&done));
    assert!(carol.download(&carols, &[]).await.body == data);
    let (_, view) = carol.status(&id(&upload)).await;
    assert_eq!(view["state"], "complete");
}

async fn bad_inputs_get_clear_errors_and_change_nothing_stored() {
    let store = Store::start(&["--max-upload-bytes", "104857600"]);
    let alice = store.api("alice", "customer").await;
    let data = pattern(11 * MIB, 4);
    let md5 = md5_hex(&data);
    let code = |v: &Value| v["error"]["code"].as_str().unwrap_or("").to_owned();

    for name in ["../../etc/passwd", "a/b.txt", "a\\b.txt", "..", ""] {
        let (status, body) = alice
            .open_raw(&json!({"name": name, "size": 10, "md5": md5}))
            .await;
        assert_eq!(
            (status, code(&body)),
            (400, "bad-name".into()),
            "{name:?}: {body}"
        );
    }
    let (status, body) = alice
        .open_raw(&json!({"name": "big.zip", "size": 200 * MIB, "md5": md5}))
        .await;
    assert_eq!((status, code(&body)), (413, "too-large".into()), "{body}");
    let (status, body) = alice
        .open_raw(&json!({"name": "x.txt", "size": 10, "md5": "nothex"}))
        .await;
    assert_eq!((status, code(&body)), (400, "bad-hash".into()));
    let (status, _) = alice.open_raw(&json!({"name": "x.txt"})).await;
    assert_eq!(status, 400);

    let (_, upload) = alice.open("data.txt", &data, false).await;
    let upload_id = id(&upload);
    assert_eq!(alice.put_chunk(&upload, &data, 0).await.0, 201);
    let first = chunk_of(&upload, &data, 1).to_vec();
    let first_md5 = md5_hex(&first);

    let (status, body) = alice
        .put_chunk_raw(&upload_id, "9", first.clone(), Some(&first_md5))
        .await;
    assert_eq!(
        (status, code(&body)),
        (400, "index-out-of-range".into()),
        "{body}"
    );
    let (status, body) = alice
        .put_chunk_raw(&upload_id, "-1", first.clone(), Some(&first_md5))
        .await;
    assert_eq!(status, 400, "{body}");
    let short = first[..1000].to_vec();
    let (status, body) = alice
        .put_chunk_raw(&upload_id, "1", short.clone(), Some(&md5_hex(&short)))
        .await;
    assert_eq!(
        (status, code(&body)),
        (400, "wrong-length".into()),
        "{body}"
    );
    let (status, body) = alice
        .put_chunk_raw(&upload_id, "1", first.clone(), Some(&md5_hex(b"other")))
        .await;
    assert_eq!(
        (status, code(&body)),
        (422, "chunk-md5-mismatch".into()),
        "{body}"
    );
    assert_eq!(body["error"]["found"], first_md5.as_str());
    let (status, body) = alice
        .put_chunk_raw(&upload_id, "1", first.clone(), None)
        .await;
    assert_eq!((status, code(&body)), (400, "bad-hash".into()));
    let unknown = "u_00000000000000000000000000000000";
    let (status, body) = alice
        .put_chunk_raw(unknown, "0", first.clone(), Some(&first_md5))
        .await;
    assert_eq!((status, code(&body)), (404, "unknown-upload".into()));
    let (status, body) = alice.complete(&upload_id).await;
    assert_eq!((status, code(&body)), (409, "chunks-missing".into()));
    assert_eq!(body["error"]["missing"], json!([1]));
    // Someone else's upload does not exist for them.
    let eve = store.api("eve", "customer").await;
    let (status, _) = eve
        .put_chunk_raw(&upload_id, "1", first.clone(), Some(&first_md5))
        .await;
    assert_eq!(status, 404);
    assert_eq!(eve.abort(&upload_id).await.0, 404);

    // None of that touched the upload: it finishes intact.
    let (_, view) = alice.status(&upload_id).await;
    assert_eq!(view["received"], json!([0]));
    assert_eq!(alice.put_chunk(&upload, &data, 1).await.0, 201);
    let (status, done) = alice.complete(&upload_id).await;
    assert_eq!(status, 200, "{done}");
    assert!(alice.download(&file_id(&done), &[]).await.body == data);
    let (status, body) = alice.put_chunk(&upload, &data, 1).await;
    assert_eq!((status, code(&body)), (409, "upload-complete".into()));

    // A whole-file MD5 that does not match the chunks discards the upload.
    let other = pattern(6 * MIB, 5);
    let (_, wrong) = alice
        .open_raw(&json!({"name": "wrong.txt", "size": other.len(), "md5": md5_hex(b"not it")}))
        .await;
    assert_eq!(alice.put_chunk(&wrong, &other, 0).await.0, 201);
    let (status, body) = alice.complete(&id(&wrong)).await;
    assert_eq!(
        (status, code(&body)),
        (422, "file-md5-mismatch".into()),
        "{body}"
    );
    assert_eq!(body["error"]["found"], md5_hex(&other).as_str());
    assert_eq!(alice.status(&id(&wrong)).await.0, 404);
    assert!(!store.holds(&format!("chunks/{}", id(&wrong))).await);

    // Abort removes the chunks.
    let (_, aborted) = alice.open("gone.txt", &other, false).await;
    assert_eq!(alice.put_chunk(&aborted, &other, 0).await.0, 201);
    assert!(store.holds(&format!("chunks/{}", id(&aborted))).await);
    assert_eq!(alice.abort(&id(&aborted)).await.0, 204);
    assert_eq!(alice.status(&id(&aborted)).await.0, 404);
    assert!(!store.holds(&format!("chunks/{}", id(&aborted))).await);
}

async fn incomplete_uploads_expire_and_their_chunks_are_removed() {
    let store = Store::start(&["--upload-ttl-ms", "1500", "--upload-sweep-ms", "200"]);
    let alice = store.api("alice", "customer").await;
    let data = pattern(6 * MIB, 6);
    let (_, upload) = alice.open("old.txt", &data, false).await;
    assert_eq!(alice.put_chunk(&upload, &data, 0).await.0, 201);
    let chunks = format!("chunks/{}", id(&upload));
    assert!(store.holds(&chunks).await);
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let (status, body) = alice.status(&id(&upload)).await;
    assert_eq!(status, 404, "{body}");
    assert_eq!(body["error"]["code"], "unknown-upload");
    assert!(!store.holds(&chunks).await, "expired chunks still stored");
}

async fn upload_policy_rejects_files_and_releases_their_chunks() {
    let store = Store::start(&[]);
    let alice = store.api("alice", "customer").await;
    let code = |v: &Value| v["error"]["code"].as_str().unwrap_or("").to_owned();

    let data = pattern(MIB, 7);
    let (_, upload) = alice.open("tool.exe", &data, false).await;
    assert_eq!(alice.put_chunk(&upload, &data, 0).await.0, 201);
    let (status, body) = alice.complete(&id(&upload)).await;
    assert_eq!(
        (status, code(&body)),
        (422, "rejected-by-policy".into()),
        "{body}"
    );
    assert_eq!(body["error"]["by"], "upload-policy");
    assert!(body["error"]["reason"].as_str().unwrap().contains("exe"));
    assert_eq!(alice.status(&id(&upload)).await.0, 404);
    assert!(!store.holds(&format!("chunks/{}", id(&upload))).await);

    // An ELF binary named as a picture: the sniffed type contradicts the name.
    let mut elf = b"\x7fELF\x02\x01\x01\0\0\0\0\0\0\0\0\0\x02\0\x3e\0".to_vec();
    elf.resize(4096, 0);
    let (status, body) = alice.upload("cat.png", &elf).await;
    assert_eq!(
        (status, code(&body)),
        (422, "rejected-by-policy".into()),
        "{body}"
    );

    // HTML named as text is caught by its bytes.
    let html = b"<html><script>alert(document.cookie)</script></html>".to_vec();
    let (status, body) = alice.upload("page.txt", &html).await;
    assert_eq!(
        (status, code(&body)),
        (422, "rejected-by-policy".into()),
        "{body}"
    );

    // A real PNG is stored and served inline as an image; a PDF is served
    // as an attachment, never rendered by this origin.
    let mut png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0".to_vec();
    png.extend_from_slice(&pattern(2000, 8));
    let (status, done) = alice.upload("cat.png", &png).await;
    assert_eq!(status, 200, "{done}");
    let got = alice.download(&file_id(&done), &[]).await;
    assert_eq!(got.headers["content-type"], "image/png");
    assert!(
        got.headers["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("inline;")
    );
    let mut pdf = b"%PDF-1.7\n".to_vec();
    pdf.extend_from_slice(&pattern(3000, 13));
    let (status, done) = alice.upload("syllabus.pdf", &pdf).await;
    assert_eq!(status, 200, "{done}");
    let got = alice.download(&file_id(&done), &[]).await;
    assert!(
        got.headers["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment;")
    );
    assert_eq!(got.headers["x-content-type-options"], "nosniff");
    assert!(
        got.headers["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("sandbox")
    );
}

async fn racing_uploads_of_the_same_content_store_it_once_and_count_references() {
    let store = Store::start(&[]);
    let alice = store.api("alice", "customer").await;
    let bob = store.api("bob", "customer").await;
    let data = pattern(12 * MIB, 9);
    let ((sa, a), (sb, b)) = tokio::join!(alice.upload("a.zip", &data), bob.upload("b.zip", &data));
    assert_eq!((sa, sb), (200, 200), "{a} {b}");
    assert_eq!(a["file"]["sha256"], b["file"]["sha256"]);
    // One object, the other merge's copy deleted.
    let objects = store.keys("merged").await;
    assert_eq!(objects.len(), 1, "{objects:?}");
    assert!(store.read(&objects[0]).await == data);

    // Deleting one file keeps the content the other still uses.
    assert_eq!(alice.delete_file(&file_id(&a)).await.0, 204);
    assert_eq!(alice.download(&file_id(&a), &[]).await.status, 404);
    assert!(bob.download(&file_id(&b), &[]).await.body == data);
    assert_eq!(
        alice.delete_file(&file_id(&b)).await.0,
        404,
        "not hers to delete"
    );
    assert_eq!(bob.delete_file(&file_id(&b)).await.0, 204);
    assert!(store.keys("merged").await.is_empty());
}

async fn killing_the_server_loses_no_received_chunk_and_never_registers_a_corrupt_file() {
    let mut store = Store::start(&[]);
    let data = pattern(6 * 5 * MIB + 99, 10);
    let open = json!({"name": "crash.zip", "size": data.len(), "md5": md5_hex(&data), "chunk_size": 5 * MIB});
    let alice = store.api("alice", "customer").await;
    let (_, upload) = alice.open_raw(&open).await;
    let upload_id = id(&upload);
    for index in [0, 3, 5] {
        assert_eq!(alice.put_chunk(&upload, &data, index).await.0, 201);
    }
    // Kill while more chunks are in flight.
    let inflight = {
        let (alice, upload, data) = (alice.clone(), upload.clone(), data.clone());
        tokio::spawn(async move {
            let send = |i: u64| {
                let chunk = chunk_of(&upload, &data, i).to_vec();
                let md5 = md5_hex(&chunk);
                let url = format!("{}/api/uploads/{}/chunks/{i}", alice.base, id(&upload));
                let request = reqwest::Client::new()
                    .put(url)
                    .bearer_auth(&alice.token)
                    .header("chunk-md5", md5)
                    .body(chunk);
                async move { request.send().await.map(|r| r.status()) }
            };
            join_all([1, 2, 4].map(send)).await
        })
    };
    tokio::time::sleep(Duration::from_millis(30)).await;
    store.kill_and_restart();
    let _ = inflight.await;

    let mut alice = store.api("alice", "customer").await;
    let (status, resumed) = alice.open_raw(&open).await;
    assert_eq!(status, 200, "{resumed}");
    assert_eq!(id(&resumed), upload_id);
    let received: Vec<u64> = resumed["received"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().unwrap())
        .collect();
    for index in [0, 3, 5] {
        assert!(
            received.contains(&index),
            "chunk {index} lost: {received:?}"
        );
    }
    let count = resumed["chunk_count"].as_u64().unwrap();
    assert_eq!(count, 7);
    for index in (0..count).filter(|i| !received.contains(i)) {
        assert_eq!(alice.put_chunk(&resumed, &data, index).await.0, 201);
    }

    // Kill during complete, at a few points; each restart completes it again.
    for delay_ms in [0, 15, 60] {
        let (status, view) = alice.status(&upload_id).await;
        if status == 200 && view["state"] == "complete" {
            break;
        }
        let completing = {
            let alice = alice.clone();
            let upload_id = upload_id.clone();
            tokio::spawn(async move {
                let url = format!("{}/api/uploads/{upload_id}/complete", alice.base);
                reqwest::Client::new()
                    .post(url)
                    .bearer_auth(&alice.token)
                    .send()
                    .await
            })
        };
        tokio::time::sleep(Duration::from_millis(delay_ms)).await;
        store.kill_and_restart();
        let _ = completing.await;
        alice = store.api("alice", "customer").await;
        let (status, view) = alice.status(&upload_id).await;
        assert_eq!(status, 200, "{view}");
    }
    let (status, done) = alice.complete(&upload_id).await;
    assert_eq!(status, 200, "{done}");
    assert_eq!(done["file"]["sha256"], sha256_hex(&data));
    assert!(alice.download(&file_id(&done), &[]).await.body == data);
    // One object, holding exactly the file, where its merge wrote it; the
    // merges the kills cut short left nothing beside it.
    let objects = store.keys("merged").await;
    assert_eq!(objects, [format!("merged/{upload_id}")]);
    assert!(store.read(&objects[0]).await == data);
    if hangar_testkit::backend::bucket().is_some() {
        // On S3 an unfinished multipart upload is no object at all.
        return;
    }
    // Nor did the chunk and object writes a kill cut short: the local
    // store's temporary files (`{path}#{n}`) are removed at start.
    let chunk_dir = store.blob_dir().join("chunks").join("u_killed");
    std::fs::create_dir_all(&chunk_dir).unwrap();
    std::fs::write(chunk_dir.join("3#17"), b"half a chunk").unwrap();
    std::fs::write(store.blob_dir().join("merged").join("u_x#4"), b"half").unwrap();
    store.kill_and_restart();
    let temporaries: Vec<_> = files_under(&store.blob_dir())
        .into_iter()
        .filter(|p| p.to_string_lossy().contains('#'))
        .collect();
    assert!(temporaries.is_empty(), "{temporaries:?}");
    assert!(store.read(&objects[0]).await == data);
}

#[tokio::test]
async fn a_large_upload_streams_through_bounded_server_memory() {
    let store = Store::start(&[]);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.zip");
    let size = 300 * MIB;
    std::fs::write(&path, pattern(size, 11)).unwrap();
    let alice = store.api("alice", "customer").await;
    let before = store.server().peak_rss_kib().unwrap();
    assert!(store.server().reset_peak_rss());
    let uploader = hangar_client::upload::Uploader::new(&alice.base, &alice.token);
    let options = hangar_client::upload::UploadOptions::default();
    let uploaded = uploader.upload(&path, &options, &|_| {}).await.unwrap();
    assert_eq!(uploaded.file.size, size as u64);
    let peak = store.server().peak_rss_kib().unwrap();
    eprintln!("server peak RSS: {before} KiB at start, {peak} KiB during a 300 MiB upload");
    // Budgets: 64 MiB of chunk bodies + 32 MiB of early chunks, plus the
    // server's own footprint; far below the file.
    assert!(peak < 200 * 1024, "peak RSS {peak} KiB");
    let got = alice
        .download(&uploaded.file.id, &[("range", "bytes=314572000-")])
        .await;
    let data = std::fs::read(&path).unwrap();
    assert_eq!(got.body, &data[314_572_000..]);
    assert_eq!(uploaded.file.md5, md5_hex(&data));
}

#[tokio::test]
async fn the_cli_uploads_resumes_and_uploads_instantly() {
    let store = Store::start(&[]);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("course.mp4");
    let cache = dir.path().join("hashes");
    let data = pattern(3 * 5 * MIB + 1, 12);
    std::fs::write(&path, &data).unwrap();
    let cli = store.api("cli", "customer").await;
    let run = |server: &str, token: &str| {
        std::process::Command::new(hangar_testkit::server::binary())
            .args(["upload", path.to_str().unwrap(), "--server", server])
            .args(["--token", token, "--chunk-mib", "5", "--parallel", "3"])
            .args(["--json", "--hash-cache", cache.to_str().unwrap()])
            .output()
            .unwrap()
    };
    let cached = || std::fs::read_dir(&cache).map(|d| d.count()).unwrap_or(0);
    let succeeded = |output: std::process::Output| -> Value {
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        serde_json::from_slice(&output.stdout).unwrap()
    };

    // A server that is not there: a readable error and a failing exit code;
    // the hashes are kept for the next run.
    let output = run("http://127.0.0.1:9", "x");
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("run again to resume"));
    assert_eq!(cached(), 1, "the file's hashes are cached");

    // A partial upload: two of the four chunks.
    let open = json!({"name": "course.mp4", "size": data.len(), "md5": md5_hex(&data), "chunk_size": 5 * MIB});
    let (_, upload) = cli.open_raw(&open).await;
    for index in [0, 2] {
        assert_eq!(cli.put_chunk(&upload, &data, index).await.0, 201);
    }
    let first = succeeded(run(&store.url(), &cli.token));
    assert_eq!(first["instant"], false);
    assert_eq!(first["chunks_sent"], 2, "resumed: only the missing chunks");
    assert_eq!(
        first["hashes_cached"], true,
        "resumed without hashing again"
    );
    assert_eq!(first["file"]["md5"], md5_hex(&data));
    assert!(
        cli.download(first["file"]["id"].as_str().unwrap(), &[])
            .await
            .body
            == data
    );
    assert_eq!(cached(), 0, "a finished upload's hashes are dropped");

    let second = succeeded(run(&store.url(), &cli.token));
    assert_eq!(
        (
            second["instant"].clone(),
            second["chunks_sent"].clone(),
            second["hashes_cached"].clone()
        ),
        (json!(true), json!(0), json!(false))
    );

    // A file changed in place, its modification time set back: the cached
    // hashes are not used (the status-change time moved), so the changed
    // content is what gets uploaded.
    let output = run("http://127.0.0.1:9", "x");
    assert!(!output.status.success());
    assert_eq!(cached(), 1);
    let modified = std::fs::metadata(&path).unwrap().modified().unwrap();
    let mut changed = data.clone();
    changed[5 * MIB + 7] ^= 0xff;
    std::fs::write(&path, &changed).unwrap();
    std::fs::File::options()
        .write(true)
        .open(&path)
        .unwrap()
        .set_modified(modified)
        .unwrap();
    let third = succeeded(run(&store.url(), &cli.token));
    assert_eq!(third["hashes_cached"], false);
    assert_eq!(third["file"]["md5"], md5_hex(&changed));
}

async fn concurrent_identical_opens_make_one_upload() {
    let store = Store::start(&[]);
    let alice = store.api("alice", "customer").await;
    let data = pattern(3 * MIB, 21);
    let open = json!({"name": "same.bin", "size": data.len(), "md5": md5_hex(&data)});
    let answers = join_all((0..200).map(|_| alice.open_raw(&open))).await;
    let mut ids: Vec<String> = answers
        .iter()
        .map(|(status, body)| {
            assert!(matches!(status, 200 | 201), "{body}");
            id(body)
        })
        .collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 1, "{ids:?}");
    let created = answers.iter().filter(|(status, _)| *status == 201).count();
    assert_eq!(created, 1, "one open creates, the others resume");
}

#[tokio::test]
async fn every_refusal_is_json_and_downloads_are_always_sandboxed() {
    let store = Store::start(&[]);
    let alice = store.api("alice", "customer").await;
    let client = reqwest::Client::new();
    for (method, path) in [
        (Method::GET, "/api/uploads/%FF%FE"),
        (Method::DELETE, "/api/uploads/%FF%FE"),
        (Method::PUT, "/api/uploads/%FF%FE/chunks/0"),
        (Method::POST, "/api/uploads/%FF%FE/proof"),
        (Method::POST, "/api/uploads/%FF%FE/complete"),
        (Method::GET, "/api/files/%FF%FE"),
        (Method::DELETE, "/api/files/%FF%FE"),
        (Method::POST, "/api/files/%FF%FE/link"),
        (Method::GET, "/files/%FF%FE"),
    ] {
        let response = client
            .request(method.clone(), format!("{}{path}", store.url()))
            .bearer_auth(&alice.token)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 400, "{method} {path}");
        let content_type = response.headers()["content-type"]
            .to_str()
            .unwrap()
            .to_owned();
        assert_eq!(content_type, "application/json", "{method} {path}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["error"]["code"], "bad-request", "{method} {path}");
    }
    for path in [
        "/files/f_nothing".to_owned(),
        "/files/f_nothing?expires=1&sig=abc".to_owned(),
        "/files/%FF".to_owned(),
    ] {
        let response = client
            .get(format!("{}{path}", store.url()))
            .bearer_auth(&alice.token)
            .send()
            .await
            .unwrap();
        assert!(response.status().is_client_error(), "{path}");
        assert_eq!(
            response.headers()["x-content-type-options"],
            "nosniff",
            "{path}"
        );
        assert!(
            response.headers()["content-security-policy"]
                .to_str()
                .unwrap()
                .contains("sandbox"),
            "{path}"
        );
    }
}

/// A wrong proof takes as long for content the store holds as for content
/// it does not: over interleaved pairs, neither kind is consistently the
/// slower one (a gap of even a fraction of a millisecond makes one kind
/// slower in nearly every pair).
#[tokio::test]
async fn a_wrong_proof_takes_as_long_for_stored_content_as_for_absent() {
    let store = Store::start(&[]);
    let alice = store.api("alice", "customer").await;
    let stored = pattern(3 * MIB, 31);
    let (status, _) = alice.upload("stored.zip", &stored).await;
    assert_eq!(status, 200);
    let bob = store.api("bob", "customer").await;
    let wrong = "0".repeat(32);
    let mut slower = 0;
    let pairs = 40;
    let prove = |body: Value| {
        let bob = bob.clone();
        let wrong = wrong.clone();
        async move {
            let (status, upload) = bob.open_raw(&body).await;
            assert_eq!(status, 201, "{upload}");
            assert!(upload["challenge"].is_object(), "{upload}");
            let started = std::time::Instant::now();
            let (status, answer) = bob.prove(&id(&upload), &wrong).await;
            let took = started.elapsed();
            assert_eq!(
                (status, &answer["instant"]),
                (200, &json!(false)),
                "{answer}"
            );
            // Reopened, the upload still shows its challenge, now spent.
            let (_, again) = bob.open_raw(&body).await;
            assert!(
                again["challenge"].is_object() && again["proof_used"] == true,
                "{again}"
            );
            took
        }
    };
    for i in 0..pairs {
        let known = prove(json!({"name": format!("k{i}.zip"), "size": stored.len(),
            "md5": md5_hex(&stored), "sha256": sha256_hex(&stored)}))
        .await;
        let absent = pattern(stored.len(), 1000 + i);
        let unknown = prove(json!({"name": format!("a{i}.zip"), "size": absent.len(),
            "md5": md5_hex(&absent), "sha256": sha256_hex(&absent)}))
        .await;
        if known > unknown {
            slower += 1;
        }
    }
    // Under no gap the count is binomial(40, 1/2): outside 8..=32 with a
    // chance of about 1 in 10,000.
    assert!(
        (8..=32).contains(&slower),
        "stored content was slower in {slower} of {pairs} pairs"
    );
}

hangar_testkit::on_every_backend!(
    chunks_in_any_order_and_in_parallel_merge_into_the_exact_file,
    opening_again_resumes_with_the_chunks_already_received,
    instant_upload_needs_a_correct_proof_and_reveals_nothing_without_one,
    bad_inputs_get_clear_errors_and_change_nothing_stored,
    incomplete_uploads_expire_and_their_chunks_are_removed,
    upload_policy_rejects_files_and_releases_their_chunks,
    racing_uploads_of_the_same_content_store_it_once_and_count_references,
    killing_the_server_loses_no_received_chunk_and_never_registers_a_corrupt_file,
    concurrent_identical_opens_make_one_upload,
);
