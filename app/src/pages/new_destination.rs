//! `/destinations/new`: pick the kind of destination to create.

use herald_model::destination::DestinationKind;
use leptos::prelude::*;

#[component]
pub fn NewDestination() -> impl IntoView {
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
                    <p class="hint">"The guided setup is being built."</p>
                </li>
            </ul>
        </section>
    }
}
