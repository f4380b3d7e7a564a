//! Answers shared by several features.

use actix_web::HttpResponse;
use serde::Serialize;

/// The answer of a "put mine" call (a check-in, joining a fast): 201 when it made the record,
/// 200 when it replaced the caller's own.
pub fn created_or_replaced(created: bool, body: impl Serialize) -> HttpResponse {
    if created {
        HttpResponse::Created().json(body)
    } else {
        HttpResponse::Ok().json(body)
    }
}
