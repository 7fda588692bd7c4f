//! The application state every handler and service receives: the store, the configuration, the
//! clock and the process-wide caches. Features import it from here; only `src/app.rs` assembles
//! the router.
use std::sync::Arc;

use tokio_util::sync::CancellationToken;

use crate::api_keys::auth::KeyAuthenticator;
use crate::clock::Clock;
use crate::config::Config;
use crate::sessions::service::SessionService;
use crate::store::{Backend, DynStore, KeyEvent};
use crate::users::current_cache::CurrentUserCache;

pub struct App {
    pub store: DynStore,
    pub config: Config,
    pub clock: Arc<dyn Clock>,
    pub sessions: SessionService,
    pub api_keys: KeyAuthenticator,
    /// `GET /api/user/current` bodies, valid while the store's write generation stands still.
    pub current_users: CurrentUserCache,
    pub shutdown: CancellationToken,
    pub key_events: tokio::sync::broadcast::Sender<KeyEvent>,
    /// Connection pools of the warehouse databases queries run on.
    pub warehouses: crate::warehouse::engine::Warehouses,
    /// Syncs running in this process (data-model.md §2.10).
    pub syncs: crate::data_model::sync::Syncs,
    /// Queries running at once, and the bounded queue before `503`.
    pub queries: crate::warehouse::limits::Admission,
    /// The tables of `include=tables` on database objects.
    pub tables: Box<dyn crate::databases::TableLister>,
    /// The query engine's description of MBQL cards (their `result_metadata`).
    pub describer: Box<dyn crate::cards::metadata::QueryDescriber>,
}

pub type AppState = Arc<App>;

impl App {
    pub fn new(store: DynStore, config: Config, clock: Arc<dyn Clock>) -> AppState {
        let trusted = store.backend() == Backend::Sqlite;
        let (key_events, _) = tokio::sync::broadcast::channel(1024);
        Arc::new(App {
            sessions: SessionService::new(&config),
            api_keys: KeyAuthenticator::new(!config.disable_api_key_throttle, trusted),
            current_users: CurrentUserCache::default(),
            queries: crate::warehouse::limits::Admission::new(&config.query_limits),
            store,
            config,
            clock,
            shutdown: CancellationToken::new(),
            key_events,
            warehouses: Default::default(),
            syncs: Default::default(),
            tables: Box::new(crate::data_model::db_read::DatabaseTables),
            describer: Box::new(crate::queries::mbql::Describer),
        })
    }
}
