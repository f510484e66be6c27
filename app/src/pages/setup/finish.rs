//! Step 7: send the welcome message and finish the setup.

use herald_model::destination::WelcomeOutcome;
use leptos::prelude::*;
use leptos::task::spawn_local;

use super::{StepNav, Wizard};
use crate::api;
use crate::components::handler;
use crate::components::notice::FormError;
use crate::router;

#[component]
pub(super) fn Finish() -> impl IntoView {
    let wizard = expect_context::<Wizard>();
    let error = RwSignal::new(None::<String>);
    let outcome = RwSignal::new(None::<WelcomeOutcome>);
    let sending = RwSignal::new(false);
    let send = move |_| {
        let id = wizard.destination.with_untracked(|d| d.id.clone());
        sending.set(true);
        spawn_local(async move {
            match api::send_welcome(&id).await {
                Ok(answer) => outcome.set(Some(answer)),
                Err(err) => outcome.set(Some(WelcomeOutcome { sent: false, message: err.message, slack_error: None })),
            }
            sending.set(false);
        });
    };
    let finish = move |_| {
        let id = wizard.destination.with_untracked(|d| d.id.clone());
        spawn_local(async move {
            match api::finish_destination(&id).await {
                Ok(_) => router::navigate("/destinations"),
                Err(err) => error.set(Some(err.message)),
            }
        });
    };
    view! {
        <h2>"7. Finish"</h2>
        <p>"A welcome message in the channel proves the whole path works."</p>
        <button type="button" class="button" on:click=handler(send) disabled=move || sending.get()>
            {move || if sending.get() { "Sending…" } else { "Send Welcome Message" }}
        </button>
        {move || outcome.get().map(|o| {
            let class = if o.sent { "notice success welcome" } else { "notice error welcome" };
            view! { <p class=class role="status">{o.message}</p> }
        })}
        <FormError error=error.into() />
        <div class="wizard-nav">
            <StepNav back=6 />
            <button type="button" class="button primary" on:click=handler(finish)>"Finish Setup"</button>
        </div>
    }
}
