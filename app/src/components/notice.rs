//! Loading and error notices, the same on every page.

use leptos::prelude::*;

use crate::api::ApiError;

#[component]
pub fn Loading(#[prop(into)] what: String) -> impl IntoView {
    view! { <p class="notice loading" role="status">{format!("Loading {what}…")}</p> }
}

/// Says what failed and offers to try again.
#[component]
pub fn ErrorNotice(error: ApiError, retry: Callback<()>) -> impl IntoView {
    view! {
        <div class="notice error" role="alert">
            <p>{error.message}</p>
            <button type="button" class="button" on:click=move |_| retry.run(())>"Try again"</button>
        </div>
    }
}
