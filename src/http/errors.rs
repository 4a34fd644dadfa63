//! The one table from errors to status codes and stable machine codes.
//!
//! Clients get `{"code": ..., "message": ...}`; causes are logged, not sent.

use hyper::StatusCode;
use hyper::header::HeaderValue;

use super::Response;
use crate::consent::ChoiceError;
use crate::query::QueryError;

#[derive(Debug, thiserror::Error)]
pub(crate) enum ApiError {
    #[error("the request body is not valid JSON: {0}")]
    InvalidJson(String),
    #[error("{0}")]
    InvalidEvent(String),
    #[error("the page URL is not an absolute http(s) URL")]
    InvalidUrl,
    #[error("the request body is larger than {0} bytes")]
    BodyTooLarge(usize),
    #[error("the request body was not received in time")]
    BodyTimeout,
    #[error("the query string is longer than {0} bytes")]
    QueryTooLong(usize),
    #[error("the request body could not be read")]
    BodyUnreadable,
    #[error("content type must be application/json or text/plain")]
    UnsupportedMediaType,
    #[error("method not allowed; use {0}")]
    MethodNotAllowed(&'static str),
    #[error("no such endpoint")]
    NotFound,
    #[error("a valid bearer token for this site is required")]
    Unauthorized,
    #[error(transparent)]
    Query(#[from] QueryError),
    #[error("the store is unavailable")]
    StoreUnavailable,
    #[error("{0}")]
    InvalidChoice(String),
    /// A dashboard request body that is not what the endpoint takes.
    #[error("{0}")]
    InvalidRequest(String),
    #[error("too many requests from this network; retry later")]
    TooManyRequests(std::time::Duration),
    #[error(
        "the site stored as many consent choices today as it may; the choice is kept in the browser only"
    )]
    ConsentCapReached(std::time::Duration),
    #[error("no site is configured under that id")]
    UnknownSite,
    #[error("wrong name or password, or the account is locked for a while")]
    LoginFailed,
    #[error("this account has a second factor: send its six-digit code as `code`")]
    SecondFactorNeeded,
    #[error("administrators need a second factor here; ask an operator for `kruimel user totp`")]
    SecondFactorMissing,
    #[error("a change needs the session's X-CSRF-Token")]
    CsrfRefused,
    #[error("this request came from another origin")]
    CrossOrigin,
    #[error("this needs the site's admin role")]
    Forbidden,
    #[error("this site asks for no consent: it has no optional categories")]
    ConsentNotAsked,
    #[error("the banner version is not one this site has shown")]
    UnknownBannerVersion,
    #[error(transparent)]
    Choice(#[from] ChoiceError),
    #[error("not a receipt id (32 lowercase hex digits)")]
    InvalidReceiptId,
    #[error("no receipt with this id: it never existed, was erased or has expired")]
    ReceiptNotFound,
    /// The operator's own configuration, refused; the reason is theirs to read.
    #[error("new configuration refused, the running one stays: {0}")]
    ReloadRejected(String),
}

impl ApiError {
    fn status(&self) -> StatusCode {
        match self {
            ApiError::InvalidJson(_)
            | ApiError::InvalidEvent(_)
            | ApiError::InvalidUrl
            | ApiError::BodyUnreadable
            | ApiError::QueryTooLong(_)
            | ApiError::Query(_)
            | ApiError::InvalidChoice(_)
            | ApiError::InvalidRequest(_)
            | ApiError::ConsentNotAsked
            | ApiError::UnknownBannerVersion
            | ApiError::Choice(_)
            | ApiError::InvalidReceiptId => StatusCode::BAD_REQUEST,
            ApiError::UnknownSite | ApiError::ReceiptNotFound => StatusCode::NOT_FOUND,
            ApiError::TooManyRequests(_) | ApiError::ConsentCapReached(_) => {
                StatusCode::TOO_MANY_REQUESTS
            }
            ApiError::LoginFailed | ApiError::SecondFactorNeeded => StatusCode::UNAUTHORIZED,
            ApiError::SecondFactorMissing
            | ApiError::CsrfRefused
            | ApiError::CrossOrigin
            | ApiError::Forbidden => StatusCode::FORBIDDEN,
            ApiError::BodyTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::BodyTimeout => StatusCode::REQUEST_TIMEOUT,
            ApiError::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::NotFound => StatusCode::NOT_FOUND,
            ApiError::Unauthorized => StatusCode::UNAUTHORIZED,
            ApiError::StoreUnavailable => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::ReloadRejected(_) => StatusCode::UNPROCESSABLE_ENTITY,
        }
    }

    /// Stable codes: clients may match on them; never rename one.
    /// The codes a beacon can be refused with, for metrics that start at 0.
    pub(crate) const BEACON_CODES: [&'static str; 7] = [
        "invalid_json",
        "invalid_event",
        "invalid_url",
        "body_too_large",
        "body_timeout",
        "body_unreadable",
        "unsupported_media_type",
    ];

    pub(crate) fn code(&self) -> &'static str {
        match self {
            ApiError::InvalidJson(_) => "invalid_json",
            ApiError::InvalidEvent(_) => "invalid_event",
            ApiError::InvalidUrl => "invalid_url",
            ApiError::BodyTooLarge(_) => "body_too_large",
            ApiError::BodyTimeout => "body_timeout",
            ApiError::BodyUnreadable => "body_unreadable",
            ApiError::QueryTooLong(_) => "query_too_long",
            ApiError::UnsupportedMediaType => "unsupported_media_type",
            ApiError::MethodNotAllowed(_) => "method_not_allowed",
            ApiError::NotFound => "not_found",
            ApiError::Unauthorized => "unauthorized",
            ApiError::Query(error) => error.code(),
            ApiError::StoreUnavailable => "store_unavailable",
            ApiError::ReloadRejected(_) => "reload_rejected",
            ApiError::InvalidChoice(_) => "invalid_choice",
            ApiError::InvalidRequest(_) => "invalid_request",
            ApiError::TooManyRequests(_) => "too_many_requests",
            ApiError::ConsentCapReached(_) => "consent_cap_reached",
            ApiError::UnknownSite => "unknown_site",
            ApiError::LoginFailed => "login_failed",
            ApiError::SecondFactorNeeded => "second_factor_needed",
            ApiError::SecondFactorMissing => "second_factor_missing",
            ApiError::CsrfRefused => "csrf_refused",
            ApiError::CrossOrigin => "cross_origin",
            ApiError::Forbidden => "forbidden",
            ApiError::ConsentNotAsked => "consent_not_asked",
            ApiError::UnknownBannerVersion => "unknown_banner_version",
            ApiError::Choice(error) => error.code(),
            ApiError::InvalidReceiptId => "invalid_receipt_id",
            ApiError::ReceiptNotFound => "receipt_not_found",
        }
    }

    pub(crate) fn response(&self) -> Response {
        let body = serde_json::json!({ "code": self.code(), "message": self.to_string() });
        let mut response = super::respond::json(self.status(), &body);
        if let ApiError::MethodNotAllowed(allow) = self {
            response
                .headers_mut()
                .insert(hyper::header::ALLOW, HeaderValue::from_static(allow));
        }
        if matches!(self, ApiError::BodyTooLarge(_) | ApiError::BodyTimeout) {
            // The rest of the body is never read: the connection cannot be reused.
            response
                .headers_mut()
                .insert(hyper::header::CONNECTION, HeaderValue::from_static("close"));
        }
        if let ApiError::TooManyRequests(retry_after) | ApiError::ConsentCapReached(retry_after) =
            self
        {
            let seconds = retry_after.as_secs().max(1).to_string();
            if let Ok(value) = HeaderValue::from_str(&seconds) {
                response
                    .headers_mut()
                    .insert(hyper::header::RETRY_AFTER, value);
            }
        }
        if let ApiError::Unauthorized = self {
            response.headers_mut().insert(
                hyper::header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer"),
            );
        }
        response
    }
}
