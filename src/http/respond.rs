//! Every answer the edge builds starts here: a status, a content type and a
//! body. Handlers add the headers that are theirs (cookies, caching, a
//! policy) to what these return.

use bytes::Bytes;
use http_body_util::Full;
use hyper::StatusCode;
use hyper::header::{self, HeaderValue};

use super::Response;

/// An answer with `body` of `content_type` (none for an empty body).
pub(super) fn respond(
    status: StatusCode,
    content_type: Option<&'static str>,
    body: impl Into<Bytes>,
) -> Response {
    let mut response = hyper::Response::new(Full::new(body.into()));
    *response.status_mut() = status;
    if let Some(content_type) = content_type {
        response
            .headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    }
    response
}

/// An answer without a body (204, 304, a preflight's).
pub(super) fn empty(status: StatusCode) -> Response {
    respond(status, None, Bytes::new())
}

/// A JSON answer.
pub(super) fn json(status: StatusCode, body: &serde_json::Value) -> Response {
    respond(status, Some("application/json"), body.to_string())
}

/// A CSV file to download, `stem.csv`.
pub(super) fn csv(body: Vec<u8>, stem: &str) -> Response {
    attachment("text/csv; charset=utf-8", body, &format!("{stem}.csv"))
}

/// A file to download, named `file_name` (quoted; the caller gives a name
/// made of the site, panel and period, never a client's text).
pub(super) fn attachment(content_type: &'static str, body: Vec<u8>, file_name: &str) -> Response {
    let mut response = respond(StatusCode::OK, Some(content_type), body);
    if let Ok(value) = HeaderValue::from_str(&format!("attachment; filename=\"{file_name}\"")) {
        response
            .headers_mut()
            .insert(header::CONTENT_DISPOSITION, value);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_answer_carries_its_status_type_and_body() {
        let answer = json(StatusCode::ACCEPTED, &serde_json::json!({}));
        assert_eq!(answer.status(), StatusCode::ACCEPTED);
        assert_eq!(answer.headers()[header::CONTENT_TYPE], "application/json");
        let file = csv(b"a;b".to_vec(), "x-paginas");
        assert_eq!(
            file.headers()[header::CONTENT_TYPE],
            "text/csv; charset=utf-8"
        );
        assert_eq!(
            file.headers()[header::CONTENT_DISPOSITION],
            "attachment; filename=\"x-paginas.csv\""
        );
        let none = empty(StatusCode::NO_CONTENT);
        assert!(none.headers().get(header::CONTENT_TYPE).is_none());
    }
}
