//! A small connection pool per warehouse database (queries.md §1.1): at most `size` connections
//! in use, idle ones kept for reuse. Waiting for a slot is bounded by the caller's deadline (it
//! counts against the query timeout); opening a connection is the engine's business, so a
//! refused connection fails at once instead of being retried until the deadline.
use std::sync::Arc;

use parking_lot::Mutex;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

pub struct Pool<C> {
    idle: Mutex<Vec<C>>,
    slots: Arc<Semaphore>,
}

/// A connection slot; the connection (if any) goes back to the pool on drop unless discarded.
pub struct Lease<C: Send + 'static> {
    pool: Arc<Pool<C>>,
    pub conn: Option<C>,
    _permit: OwnedSemaphorePermit,
}

impl<C: Send + 'static> Pool<C> {
    pub fn new(size: u32) -> Arc<Pool<C>> {
        Arc::new(Pool {
            idle: Mutex::new(Vec::new()),
            slots: Arc::new(Semaphore::new(size.max(1) as usize)),
        })
    }

    /// Waits for a slot until `deadline`; the lease holds an idle connection when one exists.
    pub async fn lease(
        self: &Arc<Self>,
        deadline: tokio::time::Instant,
    ) -> Result<Lease<C>, Timeout> {
        let permit = tokio::time::timeout_at(deadline, self.slots.clone().acquire_owned())
            .await
            .map_err(|_| Timeout)?
            .map_err(|_| Timeout)?;
        let conn = self.idle.lock().pop();
        Ok(Lease {
            pool: self.clone(),
            conn,
            _permit: permit,
        })
    }

    /// Drops every idle connection (after the database's details changed or it was deleted).
    pub fn clear(&self) {
        self.idle.lock().clear();
    }
}

/// No slot became free before the deadline.
#[derive(Debug)]
pub struct Timeout;

impl<C: Send + 'static> Lease<C> {
    /// Forgets the connection (it is closed instead of reused).
    pub fn discard(&mut self) {
        self.conn = None;
    }
}

impl<C: Send + 'static> Drop for Lease<C> {
    fn drop(&mut self) {
        if let Some(c) = self.conn.take() {
            self.pool.idle.lock().push(c);
        }
    }
}
