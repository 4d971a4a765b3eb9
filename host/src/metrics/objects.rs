//! An object store that times every operation of the store it wraps
//! (`hangar_object_store_seconds{area,op}`) and counts its failures
//! (`hangar_object_store_errors_total{area,op}`), whatever the backend.
//! A read is timed to its answer (headers, first bytes), not to the end of
//! its body; a multipart upload to its creation. An absent object or a
//! refused conditional write is an answer, not a failure.

use std::fmt;
use std::ops::Range;
use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use futures_util::StreamExt as _;
use futures_util::stream::BoxStream;
use object_store::path::Path;
use object_store::{
    CopyOptions, GetOptions, GetResult, ListResult, MultipartUpload, ObjectMeta, ObjectStore,
    PutMultipartOptions, PutOptions, PutPayload, PutResult, RenameOptions, Result,
};

use super::metrics;

/// `inner`, timed and counted as area `area` (`uploads`, `registry`).
#[derive(Debug)]
pub struct Instrumented {
    inner: Arc<dyn ObjectStore>,
    area: &'static str,
}

impl Instrumented {
    /// Wraps `inner`.
    pub fn wrap(inner: Arc<dyn ObjectStore>, area: &'static str) -> Arc<dyn ObjectStore> {
        Arc::new(Self { inner, area })
    }
}

fn record<T>(area: &'static str, op: &'static str, started: Instant, result: &Result<T>) {
    let m = metrics();
    m.object_store_seconds
        .with_label_values(&[area, op])
        .observe(started.elapsed().as_secs_f64());
    if let Err(err) = result
        && !matches!(
            err,
            object_store::Error::NotFound { .. }
                | object_store::Error::AlreadyExists { .. }
                | object_store::Error::Precondition { .. }
                | object_store::Error::NotModified { .. }
        )
    {
        m.object_store_errors.with_label_values(&[area, op]).inc();
    }
}

impl fmt::Display for Instrumented {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.inner)
    }
}

#[async_trait::async_trait]
impl ObjectStore for Instrumented {
    async fn put_opts(
        &self,
        location: &Path,
        payload: PutPayload,
        opts: PutOptions,
    ) -> Result<PutResult> {
        let started = Instant::now();
        let result = self.inner.put_opts(location, payload, opts).await;
        record(self.area, "put", started, &result);
        result
    }

    async fn put_multipart_opts(
        &self,
        location: &Path,
        opts: PutMultipartOptions,
    ) -> Result<Box<dyn MultipartUpload>> {
        let started = Instant::now();
        let result = self.inner.put_multipart_opts(location, opts).await;
        record(self.area, "put_multipart", started, &result);
        result
    }

    async fn get_opts(&self, location: &Path, options: GetOptions) -> Result<GetResult> {
        let op = if options.head { "head" } else { "get" };
        let started = Instant::now();
        let result = self.inner.get_opts(location, options).await;
        record(self.area, op, started, &result);
        result
    }

    async fn get_ranges(&self, location: &Path, ranges: &[Range<u64>]) -> Result<Vec<Bytes>> {
        let started = Instant::now();
        let result = self.inner.get_ranges(location, ranges).await;
        record(self.area, "get", started, &result);
        result
    }

    fn delete_stream(
        &self,
        locations: BoxStream<'static, Result<Path>>,
    ) -> BoxStream<'static, Result<Path>> {
        // Each deletion's answer, timed from the stream's start.
        let started = Instant::now();
        let area = self.area;
        self.inner
            .delete_stream(locations)
            .map(move |result| {
                record(area, "delete", started, &result);
                result
            })
            .boxed()
    }

    fn list(&self, prefix: Option<&Path>) -> BoxStream<'static, Result<ObjectMeta>> {
        self.inner.list(prefix)
    }

    fn list_with_offset(
        &self,
        prefix: Option<&Path>,
        offset: &Path,
    ) -> BoxStream<'static, Result<ObjectMeta>> {
        self.inner.list_with_offset(prefix, offset)
    }

    async fn list_with_delimiter(&self, prefix: Option<&Path>) -> Result<ListResult> {
        let started = Instant::now();
        let result = self.inner.list_with_delimiter(prefix).await;
        record(self.area, "list", started, &result);
        result
    }

    async fn copy_opts(&self, from: &Path, to: &Path, options: CopyOptions) -> Result<()> {
        let started = Instant::now();
        let result = self.inner.copy_opts(from, to, options).await;
        record(self.area, "copy", started, &result);
        result
    }

    // The backend's own rename (a local store's is atomic), not the
    // trait's copy-and-delete.
    async fn rename_opts(&self, from: &Path, to: &Path, options: RenameOptions) -> Result<()> {
        let started = Instant::now();
        let result = self.inner.rename_opts(from, to, options).await;
        record(self.area, "rename", started, &result);
        result
    }
}
