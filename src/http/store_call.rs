//! Store calls from request handlers: they block, so they run on a
//! blocking thread; a failure is logged with what was asked, and the
//! client gets `store_unavailable`.

use super::errors::ApiError;
use crate::store::StoreError;

pub(super) async fn store_call<T: Send + 'static>(
    what: &'static str,
    work: impl FnOnce() -> Result<T, StoreError> + Send + 'static,
) -> Result<T, ApiError> {
    match tokio::task::spawn_blocking(work).await {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(error)) => {
            tracing::error!(%error, what, "store call failed");
            Err(ApiError::StoreUnavailable)
        }
        Err(_) => Err(ApiError::StoreUnavailable),
    }
}
