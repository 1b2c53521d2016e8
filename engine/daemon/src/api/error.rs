//! API errors: an [`ErrorBody`] (`{"error": CODE, "message": TEXT, "field": KEY?, ...}`, shaped
//! in [`models`](super::models)) with the status that fits (400 malformed, 401, 403, 404, 409,
//! 422 invalid, 500).
//!
//! It owns the mapping from [`DaemonError`] to HTTP and the naming of the field a malformed
//! body is wrong in; it must not decide anything else.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use super::super::error::DaemonError;
use super::models::{ErrorBody, ErrorCode, ErrorDetails, Wire};

/// An error response: its status and body.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub body: ErrorBody,
}

impl ApiError {
    pub fn new(
        status: StatusCode,
        code: ErrorCode,
        message: impl Into<String>,
        field: Option<String>,
    ) -> ApiError {
        ApiError {
            status,
            body: ErrorBody::new(code, message.into(), field),
        }
    }

    pub fn unauthorized() -> ApiError {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            ErrorCode::Unauthorized,
            "a bearer token is required (Authorization: Bearer TOKEN)",
            None,
        )
    }

    pub fn forbidden(message: String) -> ApiError {
        ApiError::new(StatusCode::FORBIDDEN, ErrorCode::Forbidden, message, None)
    }

    pub fn bad_request(field: Option<String>, message: impl Into<String>) -> ApiError {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            ErrorCode::Malformed,
            message,
            field,
        )
    }
}

impl From<DaemonError> for ApiError {
    fn from(e: DaemonError) -> ApiError {
        match e {
            DaemonError::Malformed { field, message } => ApiError::bad_request(field, message),
            DaemonError::Invalid(problems) => {
                let message = DaemonError::Invalid(problems.clone()).to_string();
                let field = problems.first().and_then(|p| p.field.clone());
                ApiError {
                    status: StatusCode::UNPROCESSABLE_ENTITY,
                    body: ErrorBody {
                        details: ErrorDetails::Invalid { problems },
                        ..ErrorBody::new(ErrorCode::Invalid, message, field)
                    },
                }
            }
            DaemonError::Diagnostics(diagnostics) => {
                let message = DaemonError::Diagnostics(diagnostics.clone()).to_string();
                ApiError {
                    status: StatusCode::UNPROCESSABLE_ENTITY,
                    body: ErrorBody {
                        details: ErrorDetails::Scenarios { diagnostics },
                        ..ErrorBody::new(ErrorCode::InvalidScenarios, message, Some("files".into()))
                    },
                }
            }
            e @ DaemonError::NotFound { .. } => ApiError::new(
                StatusCode::NOT_FOUND,
                ErrorCode::NotFound,
                e.to_string(),
                None,
            ),
            e @ (DaemonError::Conflict(_) | DaemonError::NoScenarios) => ApiError::new(
                StatusCode::CONFLICT,
                ErrorCode::Conflict,
                e.to_string(),
                None,
            ),
            e => {
                tracing::error!(error = %e, "request failed");
                ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    ErrorCode::Internal,
                    e.to_string(),
                    None,
                )
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut resp = (self.status, Wire(self.body)).into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            resp.headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        resp
    }
}

/// Parses a JSON body; a syntax error or a value of the wrong shape is a 400 naming the field
/// when it can be told (`missing field`, or the key just before the error's position).
pub fn parse<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    serde_json::from_slice(body).map_err(|e| malformed(body, &e))
}

pub fn malformed(body: &[u8], e: &serde_json::Error) -> ApiError {
    let message = e.to_string();
    if e.is_syntax() || e.is_eof() {
        return ApiError::bad_request(None, format!("malformed JSON: {message}"));
    }
    let field = missing_field(&message)
        .or_else(|| field_with_value(body, &message))
        .or_else(|| field_at(body, e.line(), e.column()));
    ApiError::bad_request(field, message)
}

fn missing_field(message: &str) -> Option<String> {
    let rest = message.strip_prefix("missing field `")?;
    Some(rest.split('`').next()?.to_string())
}

/// The key holding the offending value a serde message quotes (`invalid value: string
/// "lots"` or `invalid type: integer `5``), found anywhere in the body (positions are useless
/// when the type flattens its fields).
fn field_with_value(body: &[u8], message: &str) -> Option<String> {
    let wanted: Value = if let Some(rest) = message.split("string \"").nth(1) {
        Value::String(rest.split('"').next()?.to_string())
    } else {
        let rest = message.split(['`']).nth(1)?;
        serde_json::from_str(rest).ok()?
    };
    fn find(v: &Value, wanted: &Value) -> Option<String> {
        match v {
            Value::Object(m) => m.iter().find_map(|(k, x)| {
                if x == wanted {
                    Some(k.clone())
                } else {
                    find(x, wanted)
                }
            }),
            Value::Array(a) => a.iter().find_map(|x| find(x, wanted)),
            _ => None,
        }
    }
    find(&serde_json::from_slice(body).ok()?, &wanted)
}

/// The last object key before `line:column` in `body`.
fn field_at(body: &[u8], line: usize, column: usize) -> Option<String> {
    let text = std::str::from_utf8(body).ok()?;
    let mut offset = 0;
    for (i, l) in text.split_inclusive('\n').enumerate() {
        if i + 1 == line {
            offset += column.min(l.len());
            break;
        }
        offset += l.len();
    }
    let before = text.get(..offset.min(text.len()))?;
    let colon = before.rfind(':')?;
    let key_end = before[..colon].trim_end().strip_suffix('"')?;
    let start = key_end.rfind('"')?;
    Some(key_end[start + 1..].to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct P {
        invoice: String,
        amount: rust_decimal::Decimal,
    }

    #[test]
    fn malformed_bodies_name_their_field() {
        let e = parse::<P>(br#"{"invoice": "F-1", "amount": "abc"}"#).expect_err("bad amount");
        assert_eq!(e.status, StatusCode::BAD_REQUEST);
        assert_eq!(e.body.field.as_deref(), Some("amount"));
        let e = parse::<P>(br#"{"invoice": "F-1"}"#).expect_err("missing");
        assert_eq!(e.body.field.as_deref(), Some("amount"));
        let e = parse::<P>(br#"{"invoice": "F-1", "#).expect_err("syntax");
        assert_eq!(e.body.error, ErrorCode::Malformed);
    }
}
