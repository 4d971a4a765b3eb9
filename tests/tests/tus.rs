//! The tus 1.0 endpoint end to end: the real binary over HTTP, on every
//! storage backend. The clients of other projects (tus-js-client, tuspy,
//! Uppy) are driven in `tests/browser/tus.test.mjs` and `tests/tus/`.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a failure is a panic

use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use hangar_testkit::uploads::{Store, UploadApi, md5_hex, pattern, sha256_hex};
use md5::Digest as _;
use reqwest::header::HeaderMap;
use reqwest::{Method, Response};
use serde_json::Value;

const MIB: usize = 1 << 20;

/// Request headers of a case.
type Headers = Vec<(&'static str, String)>;

/// A tus client for one user, speaking raw HTTP.
struct Tus {
    base: String,
    token: String,
    http: reqwest::Client,
}

impl Tus {
    fn new(api: &UploadApi) -> Self {
        Self {
            base: api.base.clone(),
            token: api.token.clone(),
            http: reqwest::Client::new(),
        }
    }

    fn request(&self, method: Method, path: &str) -> reqwest::RequestBuilder {
        self.http
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(&self.token)
            .header("tus-resumable", "1.0.0")
    }

    /// `POST /api/tus` with `headers`; the answer's status, headers, body.
    async fn create(&self, headers: &[(&str, &str)]) -> (u16, HeaderMap, String) {
        let mut req = self.request(Method::POST, "/api/tus");
        for (name, value) in headers {
            req = req.header(*name, *value);
        }
        answer(req.send().await.unwrap()).await
    }

    /// Creates an upload of `length` bytes named `name`; its path.
    async fn start(&self, name: &str, length: usize) -> String {
        let metadata = format!("filename {}", STANDARD.encode(name));
        let (status, headers, body) = self
            .create(&[
                ("upload-length", &length.to_string()),
                ("upload-metadata", &metadata),
            ])
            .await;
        assert_eq!(status, 201, "{body}");
        headers["location"].to_str().unwrap().to_owned()
    }

    async fn head(&self, path: &str) -> (u16, HeaderMap, String) {
        answer(self.request(Method::HEAD, path).send().await.unwrap()).await
    }

    async fn patch(
        &self,
        path: &str,
        offset: usize,
        bytes: &[u8],
        headers: &[(&str, &str)],
    ) -> (u16, HeaderMap, String) {
        let mut req = self
            .request(Method::PATCH, path)
            .header("content-type", "application/offset+octet-stream")
            .header("upload-offset", offset.to_string())
            .body(bytes.to_vec());
        for (name, value) in headers {
            req = req.header(*name, *value);
        }
        answer(req.send().await.unwrap()).await
    }

    /// Sends `data` from `offset` in `chunk`-byte `PATCH`es; the last
    /// answer's headers.
    async fn send_from(&self, path: &str, data: &[u8], offset: usize, chunk: usize) -> HeaderMap {
        let mut at = offset;
        let mut last = HeaderMap::new();
        while at < data.len() {
            let end = (at + chunk).min(data.len());
            let (status, headers, body) = self.patch(path, at, &data[at..end], &[]).await;
            assert_eq!(status, 204, "PATCH at {at}: {body}");
            assert_eq!(offset_of(&headers), end);
            at = end;
            last = headers;
        }
        last
    }
}

async fn answer(response: Response) -> (u16, HeaderMap, String) {
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    (status, headers, response.text().await.unwrap())
}

fn offset_of(headers: &HeaderMap) -> usize {
    headers["upload-offset"].to_str().unwrap().parse().unwrap()
}

fn file_of(headers: &HeaderMap) -> String {
    headers
        .get("hangar-file-id")
        .unwrap_or_else(|| panic!("no file id in {headers:?}"))
        .to_str()
        .unwrap()
        .to_owned()
}

fn code(body: &str) -> String {
    serde_json::from_str::<Value>(body).map_or_else(
        |_| String::new(),
        |v| v["error"]["code"].as_str().unwrap_or("").to_owned(),
    )
}

fn b64(digest: &[u8]) -> String {
    STANDARD.encode(digest)
}

async fn uploads_in_parts_become_files_of_the_same_store() {
    let store = Store::start(&[]);
    let alice = store.api("alice", "customer").await;
    let tus = Tus::new(&alice);

    // Discovery needs no session and names exactly what is supported.
    let options = reqwest::Client::new()
        .request(Method::OPTIONS, format!("{}/api/tus", store.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(options.status(), 204);
    let h = options.headers();
    assert_eq!(h["tus-version"], "1.0.0");
    assert_eq!(
        h["tus-extension"],
        "creation,creation-with-upload,creation-defer-length,termination,checksum,expiration,concatenation"
    );
    assert_eq!(h["tus-checksum-algorithm"], "md5,sha1,sha256");
    assert!(h["tus-max-size"].to_str().unwrap().parse::<u64>().unwrap() > 0);

    // 19 MiB in PATCHes of 7 MiB, the second one checksummed; a PATCH is
    // stored in parts of at most 8 MiB.
    let data = pattern(19 * MIB, 1);
    let metadata = format!(
        "filename {},filetype {},note",
        b64("report 2026.txt".as_bytes()),
        b64(b"application/x-report")
    );
    let (status, headers, body) = tus
        .create(&[
            ("upload-length", &data.len().to_string()),
            ("upload-metadata", &metadata),
        ])
        .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(headers["tus-resumable"], "1.0.0");
    assert_eq!(offset_of(&headers), 0);
    let path = headers["location"].to_str().unwrap().to_owned();
    assert!(path.starts_with("/api/tus/t_"), "{path}");
    let (status, headers, _) = tus.head(&path).await;
    assert_eq!(status, 200);
    assert_eq!(offset_of(&headers), 0);
    assert_eq!(headers["upload-length"], data.len().to_string().as_str());
    assert_eq!(headers["upload-metadata"], metadata.as_str());
    assert_eq!(headers["cache-control"], "no-store");
    let expires = httpdate::parse_http_date(headers["upload-expires"].to_str().unwrap()).unwrap();
    assert!(expires > std::time::SystemTime::now() + Duration::from_secs(3600));

    let chunk = 7 * MIB;
    let (status, headers, body) = tus.patch(&path, 0, &data[..chunk], &[]).await;
    assert_eq!(status, 204, "{body}");
    assert_eq!(offset_of(&headers), chunk);
    assert!(headers.get("hangar-file-id").is_none());
    // A refused checksummed PATCH: nothing of it is kept, and the merged
    // object written as the bytes arrived is given up (the file is then
    // merged from the parts at completion, with the digests kept so far).
    let wrong = format!("md5 {}", b64(&md5::Md5::digest(b"other bytes")));
    let (status, _, body) = tus
        .patch(
            &path,
            chunk,
            &data[chunk..2 * chunk],
            &[("upload-checksum", &wrong)],
        )
        .await;
    assert_eq!(
        (status, code(&body).as_str()),
        (460, "checksum-mismatch"),
        "{body}"
    );
    assert_eq!(offset_of(&tus.head(&path).await.1), chunk);
    let sha1 = sha1::Sha1::digest(&data[chunk..2 * chunk]);
    let checksum = format!("sha1 {}", b64(&sha1));
    let (status, headers, body) = tus
        .patch(
            &path,
            chunk,
            &data[chunk..2 * chunk],
            &[("upload-checksum", &checksum)],
        )
        .await;
    assert_eq!(status, 204, "{body}");
    assert_eq!(offset_of(&headers), 2 * chunk);
    let headers = tus.send_from(&path, &data, 2 * chunk, chunk).await;
    let file = file_of(&headers);
    assert!(headers.get("upload-expires").is_none());

    // The file is like any other: its hashes, its name, its bytes.
    let record = alice
        .fetch(Method::GET, &format!("/api/files/{file}"), &[], false)
        .await;
    let record: Value = serde_json::from_slice(&record.body).unwrap();
    assert_eq!(record["name"], "report 2026.txt");
    assert_eq!(record["size"], data.len());
    assert_eq!(record["md5"], md5_hex(&data));
    assert_eq!(record["sha256"], sha256_hex(&data));
    assert_eq!(record["content_type"], "application/x-report");
    assert_eq!(alice.download(&file, &[]).await.body, data);
    // HEAD of the complete upload names the file; its parts are gone.
    let (status, headers, _) = tus.head(&path).await;
    assert_eq!(status, 200);
    assert_eq!(offset_of(&headers), data.len());
    assert_eq!(file_of(&headers), file);
    let id = path.rsplit('/').next().unwrap();
    for _ in 0..50 {
        if !store.holds(&format!("tus/{id}")).await {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        !store.holds(&format!("tus/{id}")).await,
        "parts left behind"
    );

    // Content addressing is shared with native uploads: the same bytes
    // are known content, uploaded instantly with a proof.
    let (status, open) = alice.open("again.txt", &data, true).await;
    assert_eq!(status, 201, "{open}");
    let challenge = &open["challenge"];
    let (from, len) = (
        challenge["offset"].as_u64().unwrap() as usize,
        challenge["length"].as_u64().unwrap() as usize,
    );
    let (status, proved) = alice
        .prove(
            open["id"].as_str().unwrap(),
            &md5_hex(&data[from..from + len]),
        )
        .await;
    assert_eq!(status, 200, "{proved}");
    assert_eq!(proved["instant"], true, "{proved}");
    assert_eq!(store.keys("merged/").await.len(), 1, "content stored twice");

    // Another user cannot see or touch the upload.
    let bob = Tus::new(&store.api("bob", "customer").await);
    assert_eq!(bob.head(&path).await.0, 404);
    let (status, _, body) = bob.patch(&path, data.len(), b"x", &[]).await;
    assert_eq!((status, code(&body).as_str()), (404, "unknown-upload"));
}

async fn deferred_length_creation_with_upload_and_concatenation() {
    let store = Store::start(&[]);
    let alice = store.api("alice", "customer").await;
    let tus = Tus::new(&alice);
    let data = pattern(3 * MIB + 5, 2);

    // Created with its first bytes, length given with the last PATCH.
    let first = &data[..MIB];
    let response = tus
        .request(Method::POST, "/api/tus")
        .header("upload-defer-length", "1")
        .header("upload-metadata", format!("filename {}", b64(b"later.txt")))
        .header("content-type", "application/offset+octet-stream")
        .header(
            "upload-checksum",
            format!("md5 {}", b64(&md5::Md5::digest(first))),
        )
        .body(first.to_vec())
        .send()
        .await
        .unwrap();
    let (status, headers, body) = answer(response).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(offset_of(&headers), MIB);
    assert_eq!(headers["upload-defer-length"], "1");
    let path = headers["location"].to_str().unwrap().to_owned();
    let (status, headers, _) = tus.patch(&path, MIB, &data[MIB..2 * MIB], &[]).await;
    assert_eq!(status, 204);
    assert_eq!(headers["upload-defer-length"], "1");
    let (status, headers, body) = tus
        .patch(
            &path,
            2 * MIB,
            &data[2 * MIB..],
            &[("upload-length", &data.len().to_string())],
        )
        .await;
    assert_eq!(status, 204, "{body}");
    let whole = file_of(&headers);
    assert_eq!(alice.download(&whole, &[]).await.body, data);

    // Two partial uploads (one of them empty-bodied at creation) joined
    // by a final upload: the file is their bytes in order.
    let (a, b) = data.split_at(MIB + 3);
    let mut partials = Vec::new();
    for part in [a, b] {
        let (status, headers, body) = tus
            .create(&[
                ("upload-length", &part.len().to_string()),
                ("upload-concat", "partial"),
            ])
            .await;
        assert_eq!(status, 201, "{body}");
        assert_eq!(headers["upload-concat"], "partial");
        let path = headers["location"].to_str().unwrap().to_owned();
        let last = tus.send_from(&path, part, 0, MIB).await;
        assert!(
            last.get("hangar-file-id").is_none(),
            "a partial became a file"
        );
        partials.push(path);
    }
    let concat = format!("final;{} {}{}", partials[0], store.url(), partials[1]);
    let metadata = format!("filename {}", b64(b"joined.txt"));
    let (status, headers, body) = tus
        .create(&[("upload-concat", &concat), ("upload-metadata", &metadata)])
        .await;
    assert_eq!(status, 201, "{body}");
    let joined = file_of(&headers);
    assert_eq!(offset_of(&headers), data.len());
    let final_path = headers["location"].to_str().unwrap().to_owned();
    let (_, headers, _) = tus.head(&final_path).await;
    assert_eq!(
        headers["upload-concat"],
        format!("final;{} {}", partials[0], partials[1]).as_str()
    );
    let got = alice.download(&joined, &[]).await;
    assert_eq!(got.body, data);
    // The partial uploads were used up.
    for path in &partials {
        assert_eq!(tus.head(path).await.0, 404);
    }
    // A final upload takes no PATCH.
    let (status, _, body) = tus.patch(&final_path, data.len(), b"x", &[]).await;
    assert_eq!(
        (status, code(&body).as_str()),
        (403, "not-allowed"),
        "{body}"
    );
}

async fn refusals_are_clear_and_change_nothing_stored() {
    let store = Store::start(&["--max-upload-bytes", "33554432"]);
    let alice = store.api("alice", "customer").await;
    let tus = Tus::new(&alice);
    let data = pattern(2 * MIB, 3);
    let path = tus.start("a.txt", data.len()).await;
    tus.send_from(&path, &data[..MIB], 0, MIB).await;

    // The protocol version is required; the answer names the one spoken.
    let response = reqwest::Client::new()
        .head(format!("{}{path}", store.url()))
        .bearer_auth(&alice.token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 412);
    assert_eq!(response.headers()["tus-version"], "1.0.0");
    // A session is required.
    let response = reqwest::Client::new()
        .head(format!("{}{path}", store.url()))
        .header("tus-resumable", "1.0.0")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);

    let refusals: Vec<(Headers, u16, &str)> = vec![
        (vec![], 400, "bad-header"),
        (
            vec![
                ("upload-length", "5".into()),
                ("upload-defer-length", "1".into()),
            ],
            400,
            "bad-header",
        ),
        (vec![("upload-length", "-5".into())], 400, "bad-header"),
        (vec![("upload-defer-length", "2".into())], 400, "bad-header"),
        (
            vec![("upload-length", (64 * MIB).to_string())],
            413,
            "too-large",
        ),
        (
            vec![
                ("upload-length", "5".into()),
                ("upload-metadata", "filename !!".into()),
            ],
            400,
            "bad-header",
        ),
        (
            vec![
                ("upload-length", "5".into()),
                (
                    "upload-metadata",
                    format!("filename {}", b64(b"../etc/passwd")),
                ),
            ],
            400,
            "bad-name",
        ),
        (
            vec![(
                "upload-concat",
                "final;/api/tus/t_00000000000000000000000000000000".into(),
            )],
            404,
            "unknown-upload",
        ),
        (
            vec![("upload-concat", format!("final;{path}"))],
            403,
            "not-allowed",
        ),
    ];
    for (headers, status, expected) in refusals {
        let pairs: Vec<(&str, &str)> = headers.iter().map(|(n, v)| (*n, v.as_str())).collect();
        let (got, _, body) = tus.create(&pairs).await;
        assert_eq!(
            (got, code(&body).as_str()),
            (status, expected),
            "{headers:?}: {body}"
        );
    }

    let rest = &data[MIB..];
    let wrong_md5 = format!("md5 {}", b64(&md5::Md5::digest(b"something else")));
    let patches: Vec<(usize, &[u8], Headers, u16, &str)> = vec![
        (0, rest, vec![], 409, "offset-mismatch"),
        (2 * MIB, rest, vec![], 409, "offset-mismatch"),
        (MIB, &data, vec![], 413, "past-length"),
        (
            MIB,
            rest,
            vec![("upload-checksum", wrong_md5)],
            460,
            "checksum-mismatch",
        ),
        (
            MIB,
            rest,
            vec![("upload-checksum", "crc32 AAAAAA==".into())],
            400,
            "bad-header",
        ),
        (
            MIB,
            rest,
            vec![("upload-length", "7".into())],
            403,
            "not-allowed",
        ),
        (
            MIB,
            rest,
            vec![("content-type", "application/octet-stream".into())],
            415,
            "bad-content-type",
        ),
    ];
    for (offset, bytes, headers, status, expected) in patches {
        let mut req = tus
            .request(Method::PATCH, &path)
            .header("upload-offset", offset.to_string())
            .body(bytes.to_vec());
        if !headers.iter().any(|(name, _)| *name == "content-type") {
            req = req.header("content-type", "application/offset+octet-stream");
        }
        for (name, value) in &headers {
            req = req.header(*name, value.as_str());
        }
        let (got, _, body) = answer(req.send().await.unwrap()).await;
        assert_eq!(
            (got, code(&body).as_str()),
            (status, expected),
            "{headers:?}: {body}"
        );
        // Nothing of a refused body is kept.
        assert_eq!(offset_of(&tus.head(&path).await.1), MIB, "{expected}");
    }
    let response = tus
        .request(Method::PATCH, &path)
        .header("content-type", "application/offset+octet-stream")
        .body(Bytes::from_static(b"x"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400, "PATCH without Upload-Offset");

    // The right checksum is accepted and the upload completes.
    let good = format!("sha256 {}", b64(&sha2::Sha256::digest(rest)));
    let (status, headers, body) = tus
        .patch(&path, MIB, rest, &[("upload-checksum", &good)])
        .await;
    assert_eq!(status, 204, "{body}");
    let file = file_of(&headers);
    assert_eq!(alice.download(&file, &[]).await.body, data);
    let (status, _, body) = tus.patch(&path, 2 * MIB, b"x", &[]).await;
    assert_eq!(
        (status, code(&body).as_str()),
        (409, "upload-complete"),
        "{body}"
    );

    // Termination: an open upload and its parts go; a complete one is
    // forgotten and its file stays.
    let open = tus.start("b.txt", data.len()).await;
    tus.send_from(&open, &data[..MIB], 0, MIB).await;
    let id = open.rsplit('/').next().unwrap().to_owned();
    assert!(store.holds(&format!("tus/{id}")).await);
    let (status, _, _) = answer(tus.request(Method::DELETE, &open).send().await.unwrap()).await;
    assert_eq!(status, 204);
    assert_eq!(tus.head(&open).await.0, 404);
    assert!(!store.holds(&format!("tus/{id}")).await);
    let (status, _, _) = answer(tus.request(Method::DELETE, &path).send().await.unwrap()).await;
    assert_eq!(status, 204);
    assert_eq!(alice.download(&file, &[]).await.body, data);

    // X-HTTP-Method-Override stands in for PATCH.
    let other = tus.start("c.txt", 3).await;
    let response = tus
        .request(Method::POST, &other)
        .header("x-http-method-override", "PATCH")
        .header("content-type", "application/offset+octet-stream")
        .header("upload-offset", "0")
        .body(b"abc".to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 204);
    assert!(response.headers().get("hangar-file-id").is_some());
}

async fn upload_hooks_decide_and_uploads_expire() {
    let store = Store::start(&["--upload-ttl-ms", "1500", "--upload-sweep-ms", "200"]);
    let alice = store.api("alice", "customer").await;
    let tus = Tus::new(&alice);

    // The upload-policy plugin refuses executables, as for native uploads.
    let data = pattern(MIB, 4);
    let path = tus.start("tool.exe", data.len()).await;
    let (status, _, body) = tus.patch(&path, 0, &data, &[]).await;
    assert_eq!(
        (status, code(&body).as_str()),
        (422, "rejected-by-policy"),
        "{body}"
    );
    assert!(body.contains("upload-policy"), "{body}");
    assert_eq!(tus.head(&path).await.0, 404);
    let id = path.rsplit('/').next().unwrap();
    assert!(!store.holds(&format!("tus/{id}")).await);

    // Untouched uploads expire: 410 until the sweep, then gone with their parts.
    let path = tus.start("old.txt", 2 * MIB).await;
    tus.send_from(&path, &data, 0, MIB).await;
    let id = path.rsplit('/').next().unwrap().to_owned();
    assert!(store.holds(&format!("tus/{id}")).await);
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let status = tus.head(&path).await.0;
    assert!(status == 404 || status == 410, "{status}");
    assert!(
        !store.holds(&format!("tus/{id}")).await,
        "expired parts kept"
    );
}

/// A body that sends `sent` bytes, then hangs until dropped.
fn stalling_body(data: Vec<u8>, sent: usize) -> reqwest::Body {
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Bytes, std::io::Error>>(4);
    tokio::spawn(async move {
        for piece in data[..sent].chunks(MIB) {
            if tx.send(Ok(Bytes::copy_from_slice(piece))).await.is_err() {
                return;
            }
        }
        // Hold the stream open: the server is killed meanwhile.
        tokio::time::sleep(Duration::from_secs(120)).await;
        drop(tx);
    });
    let stream = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|item| (item, rx))
    });
    reqwest::Body::wrap_stream(stream)
}

async fn a_killed_server_keeps_the_bytes_it_stored_and_the_upload_resumes() {
    let mut store = Store::start(&[]);
    let alice = store.api("alice", "customer").await;
    let data = pattern(40 * MIB, 5);
    let path = Tus::new(&alice).start("big.txt", data.len()).await;

    // One PATCH for the whole file, cut off by a kill -9 after 21 MiB.
    let sent = 21 * MIB;
    let request = {
        let tus = Tus::new(&alice);
        let req = tus
            .request(Method::PATCH, &path)
            .header("content-type", "application/offset+octet-stream")
            .header("upload-offset", "0")
            .body(stalling_body(data.clone(), sent));
        tokio::spawn(async move { req.send().await })
    };
    // Wait until the server recorded the first two parts (8 MiB each).
    let tus = Tus::new(&alice);
    let mut stored = 0;
    for _ in 0..200 {
        stored = offset_of(&tus.head(&path).await.1);
        if stored >= 16 * MIB {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(stored, 16 * MIB, "parts not recorded as they arrive");
    store.kill_and_restart();
    request.abort();

    let alice = store.api("alice", "customer").await;
    let tus = Tus::new(&alice);
    let (status, headers, body) = tus.head(&path).await;
    assert_eq!(status, 200, "{body}");
    let offset = offset_of(&headers);
    assert_eq!(offset, 16 * MIB, "HEAD after the kill");
    let last = tus.send_from(&path, &data, offset, 8 * MIB).await;
    let file = file_of(&last);
    let got = alice.download(&file, &[]).await;
    assert_eq!(got.body.len(), data.len());
    assert!(got.body == data, "resumed file differs");
}

async fn a_broken_connection_keeps_the_bytes_that_arrived() {
    let store = Store::start(&[]);
    let alice = store.api("alice", "customer").await;
    let tus = Tus::new(&alice);
    let data = pattern(16 * MIB, 9);
    let path = tus.start("cut.txt", data.len()).await;

    // 10 MiB of one PATCH arrive, then the client goes away.
    let sent = 10 * MIB;
    let request = {
        let req = tus
            .request(Method::PATCH, &path)
            .header("content-type", "application/offset+octet-stream")
            .header("upload-offset", "0")
            .body(stalling_body(data.clone(), sent));
        tokio::spawn(async move { req.send().await })
    };
    let mut stored = 0;
    for _ in 0..200 {
        stored = offset_of(&tus.head(&path).await.1);
        if stored >= 8 * MIB {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        stored,
        8 * MIB,
        "the first part is recorded as it completes"
    );
    // Time for the rest to reach the server, then the connection closes.
    tokio::time::sleep(Duration::from_millis(500)).await;
    request.abort();
    for _ in 0..100 {
        stored = offset_of(&tus.head(&path).await.1);
        if stored == sent {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        stored, sent,
        "the bytes after the last whole part were lost"
    );
    let last = tus.send_from(&path, &data, stored, 4 * MIB).await;
    assert_eq!(alice.download(&file_of(&last), &[]).await.body, data);
}

async fn browsers_on_allowed_origins_pass_the_preflight() {
    let store = Store::start(&["--allowed-origins", "http://designer.example"]);
    let preflight = |origin: &'static str| {
        reqwest::Client::new()
            .request(Method::OPTIONS, format!("{}/api/tus/t_x", store.url()))
            .header("origin", origin)
            .header("access-control-request-method", "PATCH")
            .header(
                "access-control-request-headers",
                "authorization,content-type,tus-resumable,upload-offset,upload-checksum",
            )
            .send()
    };
    let allowed = preflight("http://designer.example").await.unwrap();
    assert_eq!(allowed.status(), 200);
    let h = allowed.headers();
    assert_eq!(h["access-control-allow-origin"], "http://designer.example");
    assert!(
        h["access-control-allow-methods"]
            .to_str()
            .unwrap()
            .contains("PATCH")
    );
    let allowed_headers = h["access-control-allow-headers"].to_str().unwrap();
    for name in [
        "authorization",
        "tus-resumable",
        "upload-offset",
        "upload-checksum",
    ] {
        assert!(allowed_headers.contains(name), "{allowed_headers}");
    }
    let refused = preflight("http://elsewhere.example").await.unwrap();
    assert!(
        refused
            .headers()
            .get("access-control-allow-origin")
            .is_none()
    );

    // The answers' headers are readable cross-origin.
    let alice = store.api("alice", "customer").await;
    let (_, headers, _) = Tus::new(&alice)
        .create(&[
            ("upload-length", "3"),
            ("origin", "http://designer.example"),
        ])
        .await;
    let exposed = headers["access-control-expose-headers"].to_str().unwrap();
    for name in [
        "location",
        "upload-offset",
        "hangar-file-id",
        "upload-expires",
    ] {
        assert!(exposed.contains(name), "{exposed}");
    }
}

hangar_testkit::on_every_backend!(
    uploads_in_parts_become_files_of_the_same_store,
    deferred_length_creation_with_upload_and_concatenation,
    refusals_are_clear_and_change_nothing_stored,
    upload_hooks_decide_and_uploads_expire,
    a_killed_server_keeps_the_bytes_it_stored_and_the_upload_resumes,
    a_broken_connection_keeps_the_bytes_that_arrived,
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cors_preflight() {
    browsers_on_allowed_origins_pass_the_preflight().await;
}
