//! Where Hangar keeps its state: [`db`], one database handle over SQLite
//! (the embedded default) or PostgreSQL (shared by several nodes), and
//! [`objects`], one object store over a local directory or S3.

pub mod db;
pub mod objects;

pub use db::{Db, DbError, Dialect};
pub use objects::{Area, ObjectStoreError, ObjectStoreUrl};
