//! Step 5: the destination's settings, in the form the Edit page uses.

use herald_model::destination::DestinationView;
use leptos::prelude::*;

use super::{StepNav, Wizard};
use crate::components::destination_form::DestinationForm;
use crate::router;

#[component]
pub(super) fn Details() -> impl IntoView {
    let wizard = expect_context::<Wizard>();
    let saved = Callback::new(move |view: DestinationView| {
        let id = view.id.clone();
        wizard.destination.set(view);
        router::navigate(&format!("/destinations/{}/setup/6", router::segment(&id)));
    });
    // Back and Next start from what was typed, not from the page's first load.
    let drafted = Callback::new(move |view: DestinationView| wizard.destination.set(view));
    let installed = move || router::query("installed").is_some();
    view! {
        <h2>"5. Destination details"</h2>
        <Show when=installed>
            <p class="notice success" role="status">"Installed with Add to Slack: the bot token is saved."</p>
        </Show>
        <DestinationForm destination=wizard.destination.get_untracked() saved drafted submit_label="Save and continue" />
        <StepNav back=4 />
    }
}
