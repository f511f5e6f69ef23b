//! ringway's configuration: the file format, its validation, and the
//! immutable [`model::Snapshot`] every worker serves from.

pub mod model;
