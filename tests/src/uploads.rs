//! Driving the upload API over HTTP.

use std::path::Path;
use std::sync::Arc;

use md5::{Digest as _, Md5};
use object_store::{ObjectStore, ObjectStoreExt as _};
use reqwest::Method;
use serde_json::{Value, json};
use sha2::Sha256;

use crate::server::{Server, request};

/// Bytes no content sniffer recognises (xorshift), different per `seed`.
pub fn pattern(size: usize, seed: u64) -> Vec<u8> {
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut out = Vec::with_capacity(size + 8);
    while out.len() < size {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        out.extend_from_slice(&state.to_le_bytes());
    }
    out.truncate(size);
    out
}

/// MD5, lowercase hex.
pub fn md5_hex(data: &[u8]) -> String {
    hex::encode(Md5::digest(data))
}

/// SHA-256, lowercase hex.
pub fn sha256_hex(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

/// One user's view of the upload API.
#[derive(Debug, Clone)]
pub struct UploadApi {
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    /// Session token.
    pub token: String,
}

/// A download: status, headers, body.
#[derive(Debug)]
pub struct Download {
    /// HTTP status.
    pub status: u16,
    /// Response headers.
    pub headers: reqwest::header::HeaderMap,
    /// Body bytes.
    pub body: Vec<u8>,
}

impl UploadApi {
    /// The API at `base` as the holder of `token`.
    pub fn new(base: &str, token: &str) -> Self {
        Self {
            base: base.to_owned(),
            token: token.to_owned(),
        }
    }

    async fn call(&self, method: Method, path: &str, body: Option<&Value>) -> (u16, Value) {
        request(
            method,
            &format!("{}{path}", self.base),
            Some(&self.token),
            body,
        )
        .await
    }

    /// Opens (or resumes) an upload of `data` named `name`.
    pub async fn open(&self, name: &str, data: &[u8], sha256: bool) -> (u16, Value) {
        let mut body = json!({"name": name, "size": data.len(), "md5": md5_hex(data)});
        if sha256 {
            body["sha256"] = sha256_hex(data).into();
        }
        self.open_raw(&body).await
    }

    /// Opens with an arbitrary body.
    pub async fn open_raw(&self, body: &Value) -> (u16, Value) {
        self.call(Method::POST, "/api/uploads", Some(body)).await
    }

    /// Sends raw bytes as chunk `index` with the given MD5 header.
    pub async fn put_chunk_raw(
        &self,
        id: &str,
        index: &str,
        bytes: Vec<u8>,
        md5: Option<&str>,
    ) -> (u16, Value) {
        let mut req = reqwest::Client::new()
            .put(format!("{}/api/uploads/{id}/chunks/{index}", self.base))
            .bearer_auth(&self.token)
            .body(bytes);
        if let Some(md5) = md5 {
            req = req.header("chunk-md5", md5);
        }
        let response = req.send().await.expect("chunk request");
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    /// Sends chunk `index` of `data` as cut by the `upload` answer.
    pub async fn put_chunk(&self, upload: &Value, data: &[u8], index: u64) -> (u16, Value) {
        let chunk = chunk_of(upload, data, index);
        let md5 = md5_hex(chunk);
        let id = upload["id"].as_str().expect("upload id");
        self.put_chunk_raw(id, &index.to_string(), chunk.to_vec(), Some(&md5))
            .await
    }

    /// `GET /api/uploads/{id}`.
    pub async fn status(&self, id: &str) -> (u16, Value) {
        self.call(Method::GET, &format!("/api/uploads/{id}"), None)
            .await
    }

    /// `POST /api/uploads/{id}/complete`.
    pub async fn complete(&self, id: &str) -> (u16, Value) {
        self.call(Method::POST, &format!("/api/uploads/{id}/complete"), None)
            .await
    }

    /// `DELETE /api/uploads/{id}`.
    pub async fn abort(&self, id: &str) -> (u16, Value) {
        self.call(Method::DELETE, &format!("/api/uploads/{id}"), None)
            .await
    }

    /// `POST /api/uploads/{id}/proof`.
    pub async fn prove(&self, id: &str, md5: &str) -> (u16, Value) {
        self.call(
            Method::POST,
            &format!("/api/uploads/{id}/proof"),
            Some(&json!({"md5": md5})),
        )
        .await
    }

    /// `DELETE /api/files/{id}`.
    pub async fn delete_file(&self, id: &str) -> (u16, Value) {
        self.call(Method::DELETE, &format!("/api/files/{id}"), None)
            .await
    }

    /// `POST /api/files/{id}/link`.
    pub async fn link(&self, id: &str) -> (u16, Value) {
        self.call(Method::POST, &format!("/api/files/{id}/link"), None)
            .await
    }

    /// Opens, sends every chunk, completes; returns the complete answer.
    pub async fn upload(&self, name: &str, data: &[u8]) -> (u16, Value) {
        let (status, upload) = self.open(name, data, false).await;
        assert!(status == 201 || status == 200, "open: {status} {upload}");
        for index in 0..upload["chunk_count"].as_u64().expect("chunk count") {
            let (status, body) = self.put_chunk(&upload, data, index).await;
            assert!(
                status == 201 || status == 200,
                "chunk {index}: {status} {body}"
            );
        }
        self.complete(upload["id"].as_str().expect("id")).await
    }

    /// `GET` (or `HEAD`) `path` with the token unless `anonymous`, plus headers.
    pub async fn fetch(
        &self,
        method: Method,
        path: &str,
        headers: &[(&str, &str)],
        anonymous: bool,
    ) -> Download {
        let mut req = reqwest::Client::new().request(method, format!("{}{path}", self.base));
        if !anonymous {
            req = req.bearer_auth(&self.token);
        }
        for (name, value) in headers {
            req = req.header(*name, *value);
        }
        let response = req.send().await.expect("download request");
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let body = response.bytes().await.expect("body").to_vec();
        Download {
            status,
            headers,
            body,
        }
    }

    /// `GET /files/{id}` with extra headers.
    pub async fn download(&self, file_id: &str, headers: &[(&str, &str)]) -> Download {
        self.fetch(Method::GET, &format!("/files/{file_id}"), headers, false)
            .await
    }
}

/// Chunk `index` of `data` as cut by the `upload` answer.
pub fn chunk_of<'a>(upload: &Value, data: &'a [u8], index: u64) -> &'a [u8] {
    let size = upload["chunk_size"].as_u64().expect("chunk size") as usize;
    let start = index as usize * size;
    &data[start..(start + size).min(data.len())]
}

/// A demo server over a data directory of its own, with its upload blobs
/// (in that directory or the test's bucket) at hand.
pub struct Store {
    server: Option<Server>,
    dir: tempfile::TempDir,
    args: Vec<String>,
    /// The servers' upload blobs (in the data directory or the test's bucket).
    blobs: Arc<dyn ObjectStore>,
}

impl Store {
    /// Starts a demo server with `args`.
    pub fn start(args: &[&str]) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let args: Vec<String> = args.iter().map(|a| (*a).to_owned()).collect();
        let server = Self::launch(dir.path(), &args);
        let blobs = crate::backend::upload_blobs(&dir.path().join("data"));
        Self {
            server: Some(server),
            dir,
            args,
            blobs,
        }
    }

    fn launch(dir: &Path, args: &[String]) -> Server {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        Server::start_demo(dir, &args).unwrap()
    }

    /// The running server.
    pub fn server(&self) -> &Server {
        self.server.as_ref().unwrap()
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        self.server().url.clone()
    }

    /// SIGKILL, then start again on the same data directory.
    pub fn kill_and_restart(&mut self) {
        drop(self.server.take());
        self.server = Some(Self::launch(self.dir.path(), &self.args));
    }

    /// The data directory's blob folder (local stores only).
    pub fn blob_dir(&self) -> std::path::PathBuf {
        self.dir.path().join("data/blobs")
    }

    /// The keys of the upload blobs under `prefix`.
    pub async fn keys(&self, prefix: &str) -> Vec<String> {
        crate::backend::keys_under(self.blobs.as_ref(), prefix).await
    }

    /// Whether anything is stored under `prefix`.
    pub async fn holds(&self, prefix: &str) -> bool {
        !self.keys(prefix).await.is_empty()
    }

    /// The bytes of blob `key`.
    pub async fn read(&self, key: &str) -> Vec<u8> {
        let got = self.blobs.get(&key.into()).await.unwrap();
        got.bytes().await.unwrap().to_vec()
    }

    /// A session of `user` with `role` (demo mode) and its upload API.
    pub async fn api(&self, user: &str, role: &str) -> UploadApi {
        let (status, body) = request(
            Method::POST,
            &format!("{}/api/session", self.url()),
            None,
            Some(&json!({"user": user, "role": role})),
        )
        .await;
        assert_eq!(status, 200, "{body}");
        UploadApi::new(&self.url(), body["token"].as_str().unwrap())
    }
}
