//! `/destinations/new`: pick the kind of destination; a draft is created
//! and the setup wizard starts.

use herald_model::destination::{DestinationKind, DestinationStatus, DestinationView};
use leptos::prelude::*;

use crate::api;
use crate::components::notice::FormError;
use crate::components::{Submit, handler};
use crate::router;

/// A draft nobody has typed into yet is picked up again, rather than a
/// new one made at every click.
async fn open_draft() -> Result<DestinationView, api::ApiError> {
    let list = api::list_destinations().await?;
    let untouched = list
        .destinations
        .into_iter()
        .find(|d| d.status == DestinationStatus::Draft && d.settings.display_name.is_empty() && d.settings.channel.is_empty());
    match untouched {
        Some(draft) => api::destination(&draft.id).await,
        None => api::create_destination(DestinationKind::SlackBot).await,
    }
}

#[component]
pub fn NewDestination() -> impl IntoView {
    crate::components::title::set_title("Create New Destination");
    let error = RwSignal::new(None::<String>);
    let starting = Submit::new();
    let start = move |_| {
        starting.run(async move {
            match open_draft().await {
                Ok(draft) => {
                    // With the Slack app stored already, only the form is left.
                    let reuses_app = draft.client_secret.set && draft.signing_secret.set && draft.bot_token.set;
                    let step = if reuses_app { 5 } else { draft.wizard_step.max(2) };
                    router::navigate(&format!("/destinations/{}/setup/{step}", router::segment(&draft.id)));
                }
                Err(err) => error.set(Some(err.message)),
            }
        });
    };
    view! {
        <section class="page">
            <header class="page-header">
                <h1>"Create New Destination"</h1>
                <a class="button" href="/destinations">"Cancel"</a>
            </header>
            <p>"Choose where Herald should send alerts."</p>
            <ul class="choices">
                <li class="choice">
                    <h2>{DestinationKind::SlackBot.label()}</h2>
                    <p>"Post alerts to a Slack channel through your own Slack app, and triage them from Slack."</p>
                    <button type="button" class="button primary" on:click=handler(start) disabled=move || starting.pending()>
                        "Set up a Slack Bot"
                    </button>
                </li>
            </ul>
            <FormError error=error.into() />
        </section>
    }
}
