//! API errors: an [`ErrorBody`] (`{"error": CODE, "message": TEXT, "field": KEY?, ...}`, shaped
//! in [`models`](super::models)) with the status that fits (400 malformed, 401, 403, 404, 408,
//! 409, 422 invalid, 500).
//!
//! An error may carry a second, [`Restricted`] body for callers outside a family of the access
//! matrix, which `auth::tell` swaps in: a refused write's 422 tells a role that may not read the
//! data only its request's own account of the refusal (`error::Scope`: the same whatever the
//! store holds), and a 500 tells only the admin role what failed (the others read "see the
//! log").
//!
//! It owns the mapping from [`DaemonError`] to HTTP, these restricted bodies and the naming of
//! the field a malformed body is wrong in; it must not decide anything else.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use super::super::error::{DaemonError, InputProblem};
use super::auth::Family;
use super::models::{ErrorBody, ErrorCode, ErrorDetails, Wire};

/// What a refused write tells a role that may not read the data when nothing in the request
/// itself is wrong.
pub const STORED_REFUSAL: &str = "refused because of what is stored (a customer or invoice \
    the request names is unknown, or a stored one differs); a role that may read the data is \
    told which";

/// What a 500 tells roles other than admin.
pub const INTERNAL_FOR_OTHERS: &str = "the daemon failed; its log has the details";

/// The body callers outside `family` get instead of the error's own.
#[derive(Debug, Clone)]
pub struct Restricted {
    pub family: Family,
    pub body: ErrorBody,
}

/// An error response: its status and body.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub body: ErrorBody,
    /// Another body for callers outside a family, if they must be told less (boxed: most
    /// errors have none).
    pub restricted: Option<Box<Restricted>>,
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
            restricted: None,
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

    /// The same error, telling callers outside `family` `body` instead.
    pub fn restricted(self, family: Family, body: ErrorBody) -> ApiError {
        ApiError {
            restricted: Some(Box::new(Restricted { family, body })),
            ..self
        }
    }

    /// A 422 listing `problems`, the first one's field as the error's.
    fn invalid(problems: Vec<InputProblem>) -> ApiError {
        let message = problems
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("\n");
        let field = problems.first().and_then(|p| p.field.clone());
        ApiError {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            body: ErrorBody {
                details: ErrorDetails::Invalid { problems },
                ..ErrorBody::new(ErrorCode::Invalid, message, field)
            },
            restricted: None,
        }
    }
}

/// A refused write: the full account for roles that may read the data, the request's own
/// account for the others (or [`STORED_REFUSAL`] when the request itself is right).
fn refused(problems: Vec<InputProblem>) -> ApiError {
    let full: Vec<InputProblem> = problems.iter().filter(|p| p.in_full()).cloned().collect();
    let mut own: Vec<InputProblem> = problems.into_iter().filter(|p| p.in_own()).collect();
    if own == full {
        return ApiError::invalid(full);
    }
    if own.is_empty() {
        own.push(InputProblem::new(String::new(), None, STORED_REFUSAL));
    }
    let blind = ApiError::invalid(own).body;
    ApiError::invalid(full).restricted(Family::Read, blind)
}

impl From<DaemonError> for ApiError {
    fn from(e: DaemonError) -> ApiError {
        match e {
            DaemonError::Malformed { field, message } => ApiError::bad_request(field, message),
            DaemonError::Invalid(problems) => refused(problems),
            DaemonError::Diagnostics(diagnostics) => {
                let message = DaemonError::Diagnostics(diagnostics.clone()).to_string();
                ApiError {
                    status: StatusCode::UNPROCESSABLE_ENTITY,
                    body: ErrorBody {
                        details: ErrorDetails::Scenarios { diagnostics },
                        ..ErrorBody::new(ErrorCode::InvalidScenarios, message, Some("files".into()))
                    },
                    restricted: None,
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
                .restricted(
                    Family::Admin,
                    ErrorBody::new(ErrorCode::Internal, INTERNAL_FOR_OTHERS.into(), None),
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
        if let Some(r) = self.restricted {
            resp.extensions_mut().insert(*r);
        }
        resp
    }
}

/// The query parameter `key` as a date (`YYYY-MM-DD`), if given; otherwise a 400 naming it.
pub fn date_param(
    params: &std::collections::HashMap<String, String>,
    key: &str,
) -> Result<Option<chrono::NaiveDate>, ApiError> {
    params
        .get(key)
        .map(|v| {
            v.parse().map_err(|_| {
                ApiError::bad_request(
                    Some(key.into()),
                    format!("{key} is a date YYYY-MM-DD, not \"{v}\""),
                )
            })
        })
        .transpose()
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
        .or_else(|| unknown_field(&message))
        .or_else(|| field_with_value(body, &message))
        .or_else(|| field_at(body, e.line(), e.column()));
    ApiError::bad_request(field, message)
}

fn missing_field(message: &str) -> Option<String> {
    let rest = message.strip_prefix("missing field `")?;
    Some(rest.split('`').next()?.to_string())
}

/// The key serde names in `unknown field `X``: its position is the key's own end, before
/// the colon [`field_at`] looks back for, so it would name the key before it.
fn unknown_field(message: &str) -> Option<String> {
    let rest = message.strip_prefix("unknown field `")?;
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

    /// The two accounts of a refused write: (problem scopes, the full account's messages,
    /// the restricted one's for roles that may not read, if any).
    #[test]
    fn a_refusal_tells_roles_that_may_not_read_only_the_request_s_own_problems() {
        use super::super::super::error::Scope::{self, Alone, Request, Stored};
        type Row = (
            &'static [(&'static str, Scope)],
            &'static [&'static str],
            Option<&'static [&'static str]>,
        );
        let rows: [Row; 5] = [
            (&[("amount", Request)], &["amount"], None),
            (
                &[("amount", Request), ("unknown", Stored)],
                &["amount", "unknown"],
                Some(&["amount"]),
            ),
            (
                &[("unknown", Stored)],
                &["unknown"],
                Some(&[STORED_REFUSAL]),
            ),
            (
                &[("unknown", Stored), ("late", Alone)],
                &["unknown"],
                Some(&["late"]),
            ),
            (
                &[("amount", Request), ("late", Alone)],
                &["amount"],
                Some(&["amount", "late"]),
            ),
        ];
        let messages = |b: &ErrorBody| match &b.details {
            ErrorDetails::Invalid { problems } => problems
                .iter()
                .map(|p| p.message.clone())
                .collect::<Vec<_>>(),
            other => panic!("{other:?}"),
        };
        for (problems, full, own) in rows {
            let e = refused(
                problems
                    .iter()
                    .map(|(m, scope)| InputProblem::new(String::new(), None, *m).scoped(*scope))
                    .collect(),
            );
            assert_eq!(e.status, StatusCode::UNPROCESSABLE_ENTITY);
            assert_eq!(messages(&e.body), full, "{problems:?}");
            let restricted = e.restricted.map(|r| (r.family, messages(&r.body)));
            let want = own.map(|o| (Family::Read, o.iter().map(|m| m.to_string()).collect()));
            assert_eq!(restricted, want, "{problems:?}");
        }
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

    /// An unknown key is named itself, not the key before it (on one line or one a line).
    #[test]
    fn an_unknown_key_is_named() {
        #[derive(Debug, serde::Deserialize)]
        #[serde(deny_unknown_fields)]
        #[allow(dead_code)]
        struct Q {
            action: String,
        }
        for body in [
            "{\"action\": \"note\", \"colour\": \"red\"}",
            "{\n  \"action\": \"note\",\n  \"colour\": \"red\"\n}",
        ] {
            let e = parse::<Q>(body.as_bytes()).expect_err("unknown key");
            assert_eq!(e.body.field.as_deref(), Some("colour"), "{body}");
        }
    }
}
