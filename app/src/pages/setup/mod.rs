//! `/destinations/:id/setup/:step`: the Slack Bot setup wizard. One route
//! per step, a stepper, Back and Next; progress is saved on the server, so
//! a reload, a closed tab or a wait for install approval resumes here.
//! Each step is a file of this folder; what they share is here.

use herald_model::destination::{DestinationStatus, DestinationView, DraftUpdate, WIZARD_STEPS};
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api;
use crate::components::handler;
use crate::components::notice::{FormError, Loader, loaded};
use crate::router;

mod configure;
mod create_app;
mod created;
mod details;
mod finish;
mod install;
mod invite;

use configure::ConfigureApp;
use create_app::CreateApp;
use created::Created;
use details::Details;
use finish::Finish;
use install::InstallApp;
use invite::InviteBot;

const STEP_NAMES: [&str; WIZARD_STEPS as usize] = ["Create", "Slack app", "Configure", "Install", "Destination", "Invite", "Finish"];

/// Slack's page for creating an app.
const SLACK_NEW_APP_URL: &str = "https://api.slack.com/apps?new_app=1";

/// The wizard's state, shared by its steps.
#[derive(Clone, Copy)]
struct Wizard {
    destination: RwSignal<DestinationView>,
    /// The answer to "Can Slack reach Herald over https?": `Some(true)`
    /// when it cannot (Socket Mode); `None` before it is answered.
    socket_mode: RwSignal<Option<bool>>,
}

impl Wizard {
    /// Socket Mode, as answered; what is saved says it best, then the
    /// answer given in this browser.
    fn new(destination: DestinationView) -> Wizard {
        let answered = if destination.app_token.set {
            Some(true)
        } else if destination.signing_secret.set {
            Some(false)
        } else {
            stored_answer(&destination.id)
        };
        Wizard { destination: RwSignal::new(destination), socket_mode: RwSignal::new(answered) }
    }

    fn socket_mode(&self) -> bool {
        self.socket_mode.get() == Some(true)
    }

    /// Answers the question; kept in this browser until the token or the
    /// signing secret is saved, so the steps in between remember it.
    fn answer(&self, socket_mode: bool) {
        self.socket_mode.set(Some(socket_mode));
        let key = answer_key(&self.destination.with_untracked(|d| d.id.clone()));
        if let Some(storage) = web_sys::window().and_then(|w| w.local_storage().ok().flatten()) {
            let _ = storage.set_item(&key, if socket_mode { "socket" } else { "https" });
        }
    }
}

fn answer_key(id: &str) -> String {
    format!("herald.setup.{id}.socketMode")
}

fn stored_answer(id: &str) -> Option<bool> {
    let storage = web_sys::window()?.local_storage().ok()??;
    storage.get_item(&answer_key(id)).ok()?.map(|answer| answer == "socket")
}

#[component]
pub fn Setup(id: String) -> impl IntoView {
    crate::components::title::set_title("Set up a Slack Bot");
    // `/destinations/:id/setup/:step`. Leaving the wizard keeps the last
    // step until the page is gone.
    let location = router::location();
    let step = Memo::new(move |shown: Option<&u8>| {
        location
            .path
            .with(|path| path.rsplit('/').next().and_then(|s| s.parse::<u8>().ok()))
            .filter(|s| (1..=WIZARD_STEPS).contains(s))
            .or(shown.copied())
            .unwrap_or(2)
    });
    let destination = Loader::new(move || {
        let id = id.clone();
        async move { api::destination(&id).await }
    });
    view! {
        <section class="page wizard">
            <h1>"Set up a Slack Bot destination"</h1>
            {loaded("the setup", destination, move |d| view! { <Steps destination=d step /> }.into_any())}
        </section>
    }
}

/// Leaves the setup. A draft is deleted (after a confirmation), so
/// abandoned attempts do not pile up in the list as "(unnamed)".
#[component]
fn CancelSetup(id: String) -> impl IntoView {
    let confirming = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);
    let delete = move |_| {
        let id = id.clone();
        spawn_local(async move {
            match api::delete_destination(&id).await {
                Ok(()) => router::navigate("/destinations"),
                Err(err) => error.set(Some(err.message)),
            }
        });
    };
    view! {
        <div class="cancel-setup">
            <Show
                when=move || confirming.get()
                fallback=move || view! { <button type="button" class="button quiet" on:click=handler(move |_| confirming.set(true))>"Cancel setup"</button> }
            >
                <span class="hint">"Delete this unfinished destination?"</span>
                <button type="button" class="button danger" on:click=handler(delete.clone())>"Delete draft"</button>
                <button type="button" class="button quiet" on:click=handler(move |_| confirming.set(false))>"Keep going"</button>
            </Show>
            <FormError error=error.into() />
        </div>
    }
}

#[component]
fn Steps(destination: DestinationView, step: Memo<u8>) -> impl IntoView {
    let cancel = (destination.status == DestinationStatus::Draft).then(|| view! { <CancelSetup id=destination.id.clone() /> });
    let wizard = Wizard::new(destination);
    provide_context(wizard);
    view! {
        {cancel}
        <Stepper step />
        {move || match step.get() {
            1 => view! { <Created /> }.into_any(),
            2 => view! { <CreateApp /> }.into_any(),
            3 => view! { <ConfigureApp /> }.into_any(),
            4 => view! { <InstallApp /> }.into_any(),
            5 => view! { <Details /> }.into_any(),
            6 => view! { <InviteBot /> }.into_any(),
            _ => view! { <Finish /> }.into_any(),
        }}
    }
}

/// Where you are; the steps reached so far are links.
#[component]
fn Stepper(step: Memo<u8>) -> impl IntoView {
    let wizard = expect_context::<Wizard>();
    view! {
        <ol class="stepper" aria-label="Setup steps">
            {STEP_NAMES
                .iter()
                .enumerate()
                .map(|(i, name)| {
                    let n = i as u8 + 1;
                    // Every step up to the furthest reached is a link, those
                    // passed on the way (an install that came back at step 5)
                    // included.
                    let reached = move || n <= wizard.destination.with(|d| d.wizard_step.max(2)).max(step.get()) && n != 1;
                    view! {
                        <li
                            class:done=move || n < step.get()
                            aria-current=move || (n == step.get()).then_some("step")
                        >
                            <span class="number">{n}</span>
                            {move || if reached() && n != step.get() {
                                let href = wizard.destination.with(|d| format!("/destinations/{}/setup/{n}", router::segment(&d.id)));
                                view! { <a href=href>{*name}</a> }.into_any()
                            } else {
                                view! { <span>{*name}</span> }.into_any()
                            }}
                        </li>
                    }
                })
                .collect_view()}
        </ol>
    }
}

/// Back and Next: saves how far the setup got, then moves.
#[component]
fn StepNav(#[prop(optional)] back: Option<u8>, #[prop(optional)] next: Option<u8>) -> impl IntoView {
    let wizard = expect_context::<Wizard>();
    let go = move |n: u8| {
        let destination = wizard.destination.get_untracked();
        spawn_local(async move {
            if destination.status == DestinationStatus::Draft && n > destination.wizard_step {
                let update = DraftUpdate { step: n, form: destination.form() };
                if let Ok(saved) = api::save_draft(&destination.id, &update).await {
                    wizard.destination.set(saved);
                }
            }
            router::navigate(&format!("/destinations/{}/setup/{n}", router::segment(&destination.id)));
        });
    };
    let go_back = go;
    view! {
        <div class="wizard-nav">
            {back.map(|n| view! { <button type="button" class="button" on:click=handler(move |_| go_back(n))>"Back"</button> })}
            {next.map(|n| view! { <button type="button" class="button primary" on:click=handler(move |_| go(n))>"Next"</button> })}
        </div>
    }
}

/// A jump forward that also records the progress.
#[component]
fn SkipTo(step: u8, label: &'static str) -> impl IntoView {
    let wizard = expect_context::<Wizard>();
    let skip = move |_| {
        let destination = wizard.destination.get_untracked();
        spawn_local(async move {
            if let Ok(saved) = api::save_draft(&destination.id, &DraftUpdate { step, form: destination.form() }).await {
                wizard.destination.set(saved);
            }
            router::navigate(&format!("/destinations/{}/setup/{step}", router::segment(&destination.id)));
        });
    };
    view! { <button type="button" class="button" on:click=handler(skip)>{label}</button> }
}
