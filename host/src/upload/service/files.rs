//! Registered files: who may read them, deleting them, sharing them with
//! conversations, and where their bytes are.

use super::{UploadError, UploadStore, valid_id};
use crate::auth::Session;
use crate::upload::access;
use crate::upload::blobs::Blobs;
use crate::upload::index::FileRecord;

impl UploadStore {
    /// Where a registered file's bytes are.
    ///
    /// # Errors
    /// The file's content is not in the index (a damaged index).
    pub async fn content_of(
        &self,
        file: &FileRecord,
    ) -> Result<object_store::path::Path, UploadError> {
        match self.index.object(&file.sha256).await? {
            Some(object) => Ok(Blobs::at(&object.location)),
            None => {
                tracing::error!(file = %file.id, sha256 = %file.sha256, "registered file has no object");
                Err(UploadError::UnknownFile(file.id.clone()))
            }
        }
    }

    /// The file, if `session` may read it.
    ///
    /// # Errors
    /// Unknown or unreadable (alike, so ids cannot be probed).
    pub async fn readable(&self, session: &Session, id: &str) -> Result<FileRecord, UploadError> {
        let file = self.file(id).await?;
        if access::reads_directly(session, &file)
            || self
                .index
                .shared_with_customer(id, session.user.as_str())
                .await?
        {
            Ok(file)
        } else {
            Err(UploadError::UnknownFile(id.to_owned()))
        }
    }

    /// The file by id, with no access check (for signed links).
    ///
    /// # Errors
    /// Unknown file.
    pub async fn file(&self, id: &str) -> Result<FileRecord, UploadError> {
        let unknown = || UploadError::UnknownFile(id.to_owned());
        if !valid_id(id, "f_") {
            return Err(unknown());
        }
        self.index.file(id).await?.ok_or_else(unknown)
    }

    /// Deletes a file (its uploader or an admin); the content goes when no
    /// other file uses it.
    ///
    /// # Errors
    /// Unknown file, or not the uploader.
    pub async fn delete_file(&self, session: &Session, id: &str) -> Result<(), UploadError> {
        let file = self.readable(session, id).await?;
        if file.owner != session.user.as_str() && session.role != crate::auth::Role::Admin {
            return Err(UploadError::Forbidden(format!(
                "only the uploader or an admin may delete file {id}"
            )));
        }
        let _guard = self.object_lock(&file.sha256).lock().await;
        if let Some(released) = self.index.delete_file(id).await?
            && released.orphaned
        {
            self.empty_trash_item(&Blobs::at(&released.location)).await;
        }
        Ok(())
    }

    /// Checks that `session` may send the attached files and returns their
    /// stored name, size and type.
    ///
    /// # Errors
    /// A file is unknown or not readable by the sender.
    pub async fn attachable(
        &self,
        session: &Session,
        file_ids: &[String],
    ) -> Result<Vec<FileRecord>, UploadError> {
        let mut files = Vec::with_capacity(file_ids.len());
        for id in file_ids {
            files.push(self.readable(session, id).await?);
        }
        Ok(files)
    }

    /// Records that files were sent to `room`: its members may read them.
    ///
    /// # Errors
    /// The index failed.
    pub async fn share(&self, file_ids: &[String], room: &str) -> Result<(), UploadError> {
        for id in file_ids {
            self.index.share(id, room).await?;
        }
        Ok(())
    }
}
