//! HTTP handlers for `/categories`.

use actix_web::http::header;
use actix_web::{delete, get, patch, post, web, HttpResponse};
use utoipa::OpenApi;

use super::{
    store, Category, CategoryChanges, CategoryRow, CreateCategoryInput, UpdateCategoryInput,
    DESCRIPTION_MAX, NAME_MAX,
};
use crate::auth::roles::require_leader;
use crate::auth::Caller;
use crate::error::{AppError, AppResult, FieldError};
use crate::http::validate::{self, Validator};
use crate::http::{Json, Page, PageParams, PageQuery};
use crate::state::AppState;

#[derive(OpenApi)]
#[openapi(paths(list_categories, create_category, update_category, delete_category))]
pub struct CategoriesApi;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(list_categories)
        .service(create_category)
        .service(update_category)
        .service(delete_category);
}

fn category_name(value: &str) -> Result<String, FieldError> {
    validate::line("name", value, 1, NAME_MAX).map(|n| n.to_lowercase())
}

fn description(value: &str) -> Result<String, FieldError> {
    validate::text("description", value, 0, DESCRIPTION_MAX)
}

/// List the categories (members), by name.
#[utoipa::path(
    tag = "Categories",
    params(PageQuery),
    responses((status = 200, description = "A page of categories", body = Page<Category>)),
    security(("bearer" = []))
)]
#[get("/categories")]
pub async fn list_categories(
    state: web::Data<AppState>,
    caller: Caller,
    page: PageParams<String>,
) -> AppResult<web::Json<Page<Category>>> {
    caller.member(&state.db).await?;
    let page = state
        .db
        .read(move |conn| {
            let rows = store::list(conn, page.after.as_deref(), page.fetch())?;
            Ok(page.page(rows, |r| r.name.clone(), Category::from))
        })
        .await?;
    Ok(web::Json(page))
}

/// Add a category (leaders).
#[utoipa::path(
    tag = "Categories",
    request_body = CreateCategoryInput,
    responses(
        (status = 201, description = "The new category", body = Category),
        (status = 403, description = "The caller is not a leader"),
        (status = 409, description = "A category with this name exists"),
    ),
    security(("bearer" = []))
)]
#[post("/categories")]
pub async fn create_category(
    state: web::Data<AppState>,
    caller: Caller,
    Json(input): Json<CreateCategoryInput>,
) -> AppResult<HttpResponse> {
    let clock = state.clock;
    let user = caller.member(&state.db).await?;
    require_leader(&user)?;
    let mut v = Validator::new();
    let name = v.take(category_name(&input.name));
    let description = input
        .description
        .as_deref()
        .and_then(|d| v.take(description(d)))
        .filter(|d| !d.is_empty());
    v.finish()?;
    let at = clock.now();
    let row = CategoryRow {
        id: uuid::Uuid::now_v7().to_string(),
        name: name.expect("validated"),
        description,
        created_at: at,
        updated_at: at,
    };
    let row = state
        .db
        .write(move |conn| store::insert(conn, &row).map(|_| row))
        .await?;
    Ok(HttpResponse::Created()
        .insert_header((header::LOCATION, format!("/api/v1/categories/{}", row.id)))
        .json(Category::from(row)))
}

/// Rename a category or change its description (leaders).
#[utoipa::path(
    tag = "Categories",
    params(("id" = String, Path, description = "Category id")),
    request_body = UpdateCategoryInput,
    responses(
        (status = 200, description = "The updated category", body = Category),
        (status = 403, description = "The caller is not a leader"),
        (status = 409, description = "A category with this name exists"),
    ),
    security(("bearer" = []))
)]
#[patch("/categories/{id}")]
pub async fn update_category(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
    Json(input): Json<UpdateCategoryInput>,
) -> AppResult<web::Json<Category>> {
    let clock = state.clock;
    let user = caller.member(&state.db).await?;
    require_leader(&user)?;
    let mut v = Validator::new();
    let name = input.name.as_deref().and_then(|n| v.take(category_name(n)));
    let description = match input.description {
        None => None,
        Some(None) => Some(None),
        Some(Some(d)) => v
            .take(description(&d))
            .map(|d| Some(d).filter(|d| !d.is_empty())),
    };
    v.finish()?;
    let changes = CategoryChanges {
        name,
        description,
        updated_at: Some(clock.now()),
    };
    let id = id.into_inner();
    let row = state
        .db
        .write(move |conn| {
            store::find(conn, &id)?.ok_or(AppError::NotFound)?;
            store::update(conn, &id, &changes)
        })
        .await?;
    Ok(web::Json(Category::from(row)))
}

/// Delete a category no prayer request uses (leaders).
#[utoipa::path(
    tag = "Categories",
    params(("id" = String, Path, description = "Category id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 403, description = "The caller is not a leader"),
        (status = 409, description = "Prayer requests use this category"),
    ),
    security(("bearer" = []))
)]
#[delete("/categories/{id}")]
pub async fn delete_category(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
) -> AppResult<HttpResponse> {
    let user = caller.member(&state.db).await?;
    require_leader(&user)?;
    let id = id.into_inner();
    state.db.write(move |conn| store::delete(conn, &id)).await?;
    Ok(HttpResponse::NoContent().finish())
}
