//! `/destinations/new`: pick the kind of destination; a draft is created
//! and the setup wizard starts.

use herald_model::destination::DestinationKind;
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::hooks::use_navigate;

use crate::api;
use crate::components::notice::FormError;

#[component]
pub fn NewDestination() -> impl IntoView {
    let navigate = use_navigate();
    let error = RwSignal::new(None::<String>);
    let pending = RwSignal::new(false);
    let start = move |_| {
        if pending.get_untracked() {
            return;
        }
        pending.set(true);
        let navigate = navigate.clone();
        spawn_local(async move {
            match api::create_destination(DestinationKind::SlackBot).await {
                Ok(draft) => navigate(&format!("/destinations/{}/setup/2", draft.id), Default::default()),
                Err(err) => error.set(Some(err.message)),
            }
            pending.set(false);
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
                    <button type="button" class="button primary" on:click=start disabled=move || pending.get()>
                        "Set up a Slack Bot"
                    </button>
                </li>
            </ul>
            <FormError error=error.into() />
        </section>
    }
}
