//! Where Hangar keeps its state: [`db`], one database handle over SQLite
//! (the embedded default) or PostgreSQL (shared by several nodes).

pub mod db;

pub use db::{Db, DbError, Dialect};
