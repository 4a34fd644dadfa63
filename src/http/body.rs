//! Reading a request body within a size limit and a deadline.

use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;

use super::errors::ApiError;

pub(super) async fn read_limited(
    body: Incoming,
    headers: &hyper::HeaderMap,
    limit: usize,
    deadline: Duration,
) -> Result<Bytes, ApiError> {
    let declared = headers
        .get(hyper::header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<u64>().ok());
    if declared.is_some_and(|length| length > limit as u64) {
        return Err(ApiError::BodyTooLarge(limit));
    }
    match tokio::time::timeout(deadline, Limited::new(body, limit).collect()).await {
        Err(_) => Err(ApiError::BodyTimeout),
        Ok(Ok(collected)) => Ok(collected.to_bytes()),
        Ok(Err(error)) if error.is::<http_body_util::LengthLimitError>() => {
            Err(ApiError::BodyTooLarge(limit))
        }
        Ok(Err(_)) => Err(ApiError::BodyUnreadable),
    }
}
