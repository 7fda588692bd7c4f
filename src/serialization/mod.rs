//! Serialization (serialization.md): YAML export and import of collections, cards, dashboards,
//! databases and settings, over HTTP (`/api/ee/serialization/*`) and the command line.
pub mod api;
pub mod archive;
pub mod cli;
pub mod entities;
pub mod export;
pub mod export_data_model;
pub mod export_query;
pub mod import;
pub mod import_api;
pub mod load;
mod load_content;
mod load_data_model;
mod load_meta;
mod load_query;
pub mod progress;
pub mod select;
pub mod server_mark;
pub mod source;
pub mod store;
pub mod unpack;
pub mod yaml;
pub mod yaml_read;
