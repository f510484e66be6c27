//! `GET /healthz`: for load balancers and orchestrators.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use herald_model::api::{Health, HealthStatus};

use crate::AppState;

/// 200 when the database answers, 503 otherwise; says whether this
/// replica is the one delivering.
pub async fn healthz(State(state): State<AppState>) -> (StatusCode, Json<Health>) {
    let version = env!("CARGO_PKG_VERSION").to_owned();
    let delivering = state.outbox.delivering();
    match state.store.ping().await {
        Ok(()) => (StatusCode::OK, Json(Health { status: HealthStatus::Ok, version, delivering })),
        Err(err) => {
            tracing::error!(error = %err, "health check: the database does not answer");
            (StatusCode::SERVICE_UNAVAILABLE, Json(Health { status: HealthStatus::Unavailable, version, delivering }))
        }
    }
}
