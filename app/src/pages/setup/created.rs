//! Step 1: the draft exists; what the wizard will do.

use leptos::prelude::*;

use super::StepNav;

#[component]
pub(super) fn Created() -> impl IntoView {
    view! {
        <h2>"1. Slack Bot chosen"</h2>
        <p>"Herald will post alerts to a Slack channel through a Slack app of your own. The next steps create that app, install it, and connect it to Herald."</p>
        <StepNav next=2 />
    }
}
