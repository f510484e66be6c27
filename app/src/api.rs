//! The one door to Herald's server: every request the app makes is a
//! function here, and every failure comes back as an [`ApiError`] with a
//! sentence a person can act on.

use gloo_net::http::{Request, Response};
use herald_model::api::{DestinationList, ErrorBody};
use serde::de::DeserializeOwned;

#[derive(Debug, Clone, PartialEq)]
pub struct ApiError {
    pub message: String,
    /// The form field the error is about, when the server named one.
    #[allow(dead_code)] // read by the destination form (next issue)
    pub field: Option<String>,
}

impl ApiError {
    fn plain(message: impl Into<String>) -> Self {
        ApiError { message: message.into(), field: None }
    }
}

pub async fn list_destinations() -> Result<DestinationList, ApiError> {
    get_json("/api/destinations").await
}

async fn get_json<T: DeserializeOwned>(path: &str) -> Result<T, ApiError> {
    let response = Request::get(path)
        .header("Accept", "application/json")
        .send()
        .await
        .map_err(|_| ApiError::plain("Herald's server cannot be reached. Check that it is running, then try again."))?;
    decode(response).await
}

async fn decode<T: DeserializeOwned>(response: Response) -> Result<T, ApiError> {
    if response.ok() {
        return response
            .json::<T>()
            .await
            .map_err(|_| ApiError::plain("Herald's server sent an answer this page cannot read. Reload the page."));
    }
    match response.json::<ErrorBody>().await {
        Ok(body) => Err(ApiError { message: body.error.message, field: body.error.field }),
        Err(_) => Err(ApiError::plain(format!(
            "Herald's server answered {} {}. Try again in a moment.",
            response.status(),
            response.status_text()
        ))),
    }
}
