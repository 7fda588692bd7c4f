//! Cards: questions, models and metrics (content.md §2), with archiving (§4.2) and the
//! collection-permission checks of §5. Cards sit below dashboards and queries: they know what
//! a dashboard question needs of its dashboard (`dashboard_link`) and describe their own
//! native query (`native`, `template`, `metadata`), but import neither module.
pub mod api;
pub mod dashboard_link;
pub mod input;
pub mod metadata;
pub mod native;
pub mod patch;
pub mod placement;
pub mod service;
pub mod store;
pub mod template;
pub mod update;
pub mod view;
