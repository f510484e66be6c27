//! `/destinations/:id/setup/:step`: the Slack Bot setup wizard. One route
//! per step, a stepper, Back and Next; progress is saved on the server, so
//! a reload, a closed tab or a wait for install approval resumes here.

use herald_model::destination::{
    AppCredentials, ChannelCheck, ChannelState, DestinationStatus, DestinationView, DraftUpdate, WIZARD_STEPS, WelcomeOutcome,
};
use herald_model::manifest::{DEFAULT_APP_NAME, ManifestFormat, bot_display_name};
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api;
use crate::components::copy::CopyButton;
use crate::components::destination_form::DestinationForm;
use crate::api::ApiError;
use crate::components::notice::{FieldMessage, FormError, Loader, focus_first_invalid, loaded};
use crate::router;
use crate::components::handler;

const STEP_NAMES: [&str; WIZARD_STEPS as usize] =
    ["Create", "Slack app", "Configure", "Install", "Destination", "Invite", "Finish"];

/// Slack's page for creating an app.
const SLACK_NEW_APP_URL: &str = "https://api.slack.com/apps?new_app=1";

/// The wizard's state, shared by its steps.
#[derive(Clone, Copy)]
struct Wizard {
    destination: RwSignal<DestinationView>,
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
    let wizard = Wizard { destination: RwSignal::new(destination) };
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
                                let href = wizard.destination.with(|d| format!("/destinations/{}/setup/{n}", d.id));
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
            router::navigate(&format!("/destinations/{}/setup/{n}", destination.id));
        });
    };
    let go_back = go.clone();
    view! {
        <div class="wizard-nav">
            {back.map(|n| view! { <button type="button" class="button" on:click=handler(move |_| go_back(n))>"Back"</button> })}
            {next.map(|n| view! { <button type="button" class="button primary" on:click=handler(move |_| go(n))>"Next"</button> })}
        </div>
    }
}

#[component]
fn Created() -> impl IntoView {
    view! {
        <h2>"1. Slack Bot chosen"</h2>
        <p>"Herald will post alerts to a Slack channel through a Slack app of your own. The next steps create that app, install it, and connect it to Herald."</p>
        <StepNav next=2 />
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Plan {
    Standard,
    EnterpriseGrid,
}

#[component]
fn CreateApp() -> impl IntoView {
    let wizard = expect_context::<Wizard>();
    let plan = RwSignal::new(Plan::Standard);
    let format = RwSignal::new(ManifestFormat::Yaml);
    let format_now = move || format.get_untracked();
    // A plain signal, not a resource: a resource read here would suspend
    // the whole wizard at each tab or format change (the page flickering,
    // the focus lost); this keeps the old text until the new one is in.
    let manifest = RwSignal::new(None::<Result<herald_model::manifest::ManifestText, ApiError>>);
    Effect::new(move |_| {
        let (format, grid) = (format.get(), plan.get() == Plan::EnterpriseGrid);
        spawn_local(async move {
            let answer = api::manifest(format, grid).await;
            // Only the answer for what is chosen now.
            if (format, grid) == (format_now(), plan.get_untracked() == Plan::EnterpriseGrid) {
                manifest.set(Some(answer));
            }
        });
    });
    let text = Signal::derive(move || manifest.get().and_then(Result::ok).map(|m| m.text).unwrap_or_default());
    let reuses_app = move || wizard.destination.with(|d| d.client_secret.set && d.bot_token.set);
    let tab = move |which: Plan, label: &'static str| {
        let id = match which {
            Plan::Standard => "plan-standard",
            Plan::EnterpriseGrid => "plan-grid",
        };
        view! {
            <button type="button" role="tab" class="tab" id=id aria-controls="manifest-text"
                aria-selected=move || (plan.get() == which).to_string()
                tabindex=move || if plan.get() == which { "0" } else { "-1" }
                on:click=handler(move |_| plan.set(which))>{label}</button>
        }
    };
    // The arrow keys move between the tabs (and Home/End to the ends), as
    // in any tab list; Tab leaves it.
    let tab_keys = move |ev: leptos::ev::KeyboardEvent| {
        let to = match ev.key().as_str() {
            "ArrowRight" | "ArrowLeft" => Some(if plan.get_untracked() == Plan::Standard { Plan::EnterpriseGrid } else { Plan::Standard }),
            "Home" => Some(Plan::Standard),
            "End" => Some(Plan::EnterpriseGrid),
            _ => None,
        };
        if let Some(to) = to {
            ev.prevent_default();
            plan.set(to);
            let id = if to == Plan::Standard { "plan-standard" } else { "plan-grid" };
            request_animation_frame(move || {
                use wasm_bindgen::JsCast as _;
                let tab = document().get_element_by_id(id).and_then(|t| t.dyn_into::<web_sys::HtmlElement>().ok());
                if let Some(tab) = tab {
                    let _ = tab.focus();
                }
            });
        }
    };
    let format_button = move |which: ManifestFormat, label: &'static str| {
        view! {
            <button type="button" class="toggle" aria-pressed=move || (format.get() == which).to_string()
                on:click=handler(move |_| format.set(which))>{label}</button>
        }
    };
    view! {
        <h2>"2. Create the Slack app from a manifest"</h2>
        <Show when=reuses_app>
            <div class="notice success" role="status">
                <p>"This destination uses the Slack app you set up before: its credentials are filled in already."</p>
                <SkipTo step=5 label="Skip to the destination details" />
            </div>
        </Show>
        <div class="tabs" role="tablist" aria-label="Slack plan" on:keydown=handler(tab_keys)>
            {tab(Plan::Standard, "Free, Pro and Business+ plans")}
            {tab(Plan::EnterpriseGrid, "Enterprise Grid")}
        </div>
        <ol class="instructions">
            <li>"Copy the manifest below."</li>
            <li>
                "Open "<a href=SLACK_NEW_APP_URL target="_blank" rel="noopener noreferrer">"Slack's app page"</a>
                " and click "<strong>"Create New App"</strong>" → "<strong>"From an app manifest"</strong>"."
            </li>
            {move || match plan.get() {
                Plan::Standard => view! { <li>"Pick the workspace the alerts go to, then "<strong>"Next"</strong>"."</li> }.into_any(),
                Plan::EnterpriseGrid => view! {
                    <li>
                        "Pick your organization's workspace, then "<strong>"Next"</strong>". The manifest turns on "
                        <strong>"org-level deployment"</strong>"; if Slack asks, open "<strong>"Org Level Apps"</strong>
                        " in the app's settings and click "<strong>"Opt in"</strong>"."
                    </li>
                }.into_any(),
            }}
            <li>"Choose "<strong>{move || if format.get() == ManifestFormat::Yaml { "YAML" } else { "JSON" }}</strong>", paste the manifest over the example, then "<strong>"Next"</strong>"."</li>
            <li>"Review the summary and click "<strong>"Create"</strong>"."</li>
        </ol>
        {move || manifest.get().and_then(Result::ok).and_then(|m| m.warning).map(|w| view! { <p class="notice error" role="alert">{w}</p> })}
        <div class="manifest-tools">
            {format_button(ManifestFormat::Yaml, "YAML")}
            {format_button(ManifestFormat::Json, "JSON")}
            <CopyButton text select="manifest-text" label="Copy manifest" />
        </div>
        <textarea id="manifest-text" class="manifest" readonly rows="22" aria-label="App manifest" prop:value=move || text.get()></textarea>
        {move || manifest.get().and_then(Result::err).map(|e| view! { <p class="notice error" role="alert">{e.message}</p> })}
        <p class="hint">
            "Not an admin of the workspace? Slack shows "<strong>"Request to Install"</strong>
            " instead: send the request, and once an admin approves it come back through Alert Destinations → Continue. Herald keeps your place."
        </p>
        <StepNav back=1 next=3 />
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
            router::navigate(&format!("/destinations/{}/setup/{step}", destination.id));
        });
    };
    view! { <button type="button" class="button" on:click=handler(skip)>{label}</button> }
}

#[component]
fn InstallApp() -> impl IntoView {
    view! {
        <h2>"4. Install the app"</h2>
        <AddToSlack />
        <h3>"Or install it from Slack's page"</h3>
        <ol class="instructions">
            <li>"In the app's settings, open "<strong>"Install App"</strong>"."</li>
            <li>
                "Click "<strong>"Install to Workspace"</strong>" — on Enterprise Grid, "<strong>"Install to Organization"</strong>
                " and pick the workspaces that may use it."
            </li>
            <li>"Review the permissions and click "<strong>"Allow"</strong>"."</li>
        </ol>
        <p class="hint">"Then copy the Bot User OAuth Token ("<strong>"OAuth & Permissions"</strong>" → "<strong>"OAuth Tokens"</strong>", it starts with xoxb-) into the next step. Needs an admin's approval? Request it, and come back here through Alert Destinations → Continue setup."</p>
        <StepNav back=3 next=5 />
    }
}

/// Installs through Herald: with the app's Client ID and Client Secret
/// saved, Slack's authorize page sends the browser back with the token.
#[component]
fn AddToSlack() -> impl IntoView {
    let wizard = expect_context::<Wizard>();
    let client_id = RwSignal::new(wizard.destination.with_untracked(|d| d.client_id.clone()));
    let client_secret = RwSignal::new(String::new());
    let signing_secret = RwSignal::new(String::new());
    let error = RwSignal::new(None::<ApiError>);
    let field_error = move |name: &'static str| Signal::derive(move || error.with(|e| e.as_ref().and_then(|e| e.field(name))));
    let form_error = Signal::derive(move || error.with(|e| e.as_ref().filter(|e| e.fields.is_empty()).map(|e| e.message.clone())));
    let saved = move || wizard.destination.with(|d| d.client_secret.set && !d.client_id.is_empty());
    let install_href = move || wizard.destination.with(|d| format!("/slack/install?destination={}", d.id));
    let save_and_install = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let id = wizard.destination.with_untracked(|d| d.id.clone());
        let credentials = AppCredentials {
            client_id: client_id.get_untracked(),
            client_secret: Some(client_secret.get_untracked()),
            signing_secret: Some(signing_secret.get_untracked()),
        };
        spawn_local(async move {
            match api::save_credentials(&id, &credentials).await {
                Ok(view) => {
                    wizard.destination.set(view);
                    // A full navigation: Slack's page is not part of the app.
                    if let Some(window) = web_sys::window() {
                        let _ = window.location().set_href(&format!("/slack/install?destination={id}"));
                    }
                }
                Err(err) => {
                    error.set(Some(err));
                    focus_first_invalid();
                }
            }
        });
    };
    view! {
        <div class="notice add-to-slack">
            <h3>"Install with Add to Slack"</h3>
            <p>"Herald installs the app and keeps its token: nothing to copy. Herald needs the app's credentials for this ("
                <strong>"Basic Information"</strong>" → "<strong>"App Credentials"</strong>")."</p>
            <Show
                when=saved
                fallback=move || view! {
                    <form class="form" on:submit=handler(save_and_install) novalidate>
                        {[
                            ("install-client-id", "Client ID", "clientId", "text", client_id),
                            ("install-client-secret", "Client Secret", "clientSecret", "password", client_secret),
                            ("install-signing-secret", "Signing Secret", "signingSecret", "password", signing_secret),
                        ]
                        .into_iter()
                        .map(|(id, label, field, kind, value)| {
                            let message = field_error(field);
                            let error_id = format!("{id}-error");
                            view! {
                                <label for=id>{label}</label>
                                <input id=id type=kind autocomplete="off" spellcheck="false"
                                    aria-invalid=move || message.with(Option::is_some).then_some("true")
                                    aria-describedby=error_id.clone()
                                    prop:value=move || value.get()
                                    on:input=handler(move |ev: leptos::ev::Event| {
                                        value.set(event_target_value(&ev));
                                        // The server's word on this field goes once it changes.
                                        error.update(|e| if let Some(e) = e { e.fields.retain(|f| f.field != field) });
                                    }) />
                                <FieldMessage id=error_id message />
                            }
                        })
                        .collect_view()}
                        <button type="submit" class="button primary">"Save and Add to Slack"</button>
                    </form>
                }
            >
                <a class="button primary" rel="external" href=install_href>"Add to Slack"</a>
            </Show>
            <FormError error=form_error />
        </div>
    }
}

#[component]
fn ConfigureApp() -> impl IntoView {
    view! {
        <h2>"3. Configure the app"</h2>
        <div class="icon-download">
            <img src="/herald-icon.png" alt="Herald's app icon" width="96" height="96" />
            <div>
                <p>"Give the app Herald's icon: download it, then in "<strong>"Basic Information"</strong>" → "
                    <strong>"Display Information"</strong>", upload it as the app icon."</p>
                <a class="button" href="/herald-icon.png" download="herald-icon.png">"Download the icon (PNG, 512 × 512)"</a>
            </div>
        </div>
        <p>"Then keep this page at hand: the next step asks for the app's "<strong>"Client ID"</strong>", "
            <strong>"Client Secret"</strong>" and "<strong>"Signing Secret"</strong>", found under "<strong>"Basic Information"</strong>
            " → "<strong>"App Credentials"</strong>" (click Show for the secrets)."</p>
        <StepNav back=2 next=4 />
    }
}

#[component]
fn Details() -> impl IntoView {
    let wizard = expect_context::<Wizard>();
    let saved = Callback::new(move |view: DestinationView| {
        let id = view.id.clone();
        wizard.destination.set(view);
        router::navigate(&format!("/destinations/{id}/setup/6"));
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

#[component]
fn InviteBot() -> impl IntoView {
    let wizard = expect_context::<Wizard>();
    let command = format!("/invite @{}", bot_display_name(DEFAULT_APP_NAME));
    let channel = move || {
        let channel = wizard.destination.with(|d| d.channel.clone());
        if channel.is_empty() { "the channel".to_owned() } else { channel }
    };
    let check = RwSignal::new(None::<Result<ChannelCheck, String>>);
    // Slack not finding the channel means a private channel the bot is not
    // in yet, or a name that is wrong: the page says both, not "invite"
    // and "cannot find" side by side.
    let not_found = move || matches!(check.get(), Some(Ok(ChannelCheck { state: ChannelState::Problem, channel_id: None, .. })));
    let back_to_form = move || wizard.destination.with(|d| format!("/destinations/{}/setup/5", d.id));
    view! {
        <h2>"6. Invite the bot to the channel"</h2>
        <Show
            when=not_found
            fallback=move || view! { <p>"In Slack, open "<strong>{channel}</strong>" and send:"</p> }
        >
            <p>"If "<strong>{channel}</strong>" is a private channel, open it in Slack and send the command below. If the name is wrong, "
                <a href=back_to_form>"correct the channel in step 5"</a>"."</p>
        </Show>
        <div class="command">
            <input id="invite-command" class="code" type="text" readonly prop:value=command.clone() aria-label="Invite command" />
            <CopyButton text=Signal::stored(command.clone()) select="invite-command" />
        </div>
        <ChannelStatus check />
        <p class="hint">"Private channels must invite the bot before Herald can see them."</p>
        <StepNav back=5 next=7 />
    }
}

/// How often step 6 asks Slack whether the bot has joined.
const CHANNEL_POLL: std::time::Duration = std::time::Duration::from_secs(3);

/// The live answer to "is the bot in the channel yet?", asked again every
/// few seconds until it is.
#[component]
fn ChannelStatus(check: RwSignal<Option<Result<ChannelCheck, String>>>) -> impl IntoView {
    let wizard = expect_context::<Wizard>();
    let asking = RwSignal::new(false);
    let ask = move || {
        let ready = matches!(check.get_untracked(), Some(Ok(ChannelCheck { state: ChannelState::Ready, .. })));
        // One question at a time: a slow Slack must not pile them up.
        if ready || asking.get_untracked() {
            return;
        }
        asking.set(true);
        let id = wizard.destination.with_untracked(|d| d.id.clone());
        spawn_local(async move {
            let answer = api::channel_check(&id).await.map_err(|e| e.message);
            check.set(Some(answer));
            asking.set(false);
        });
    };
    ask();
    if let Ok(handle) = set_interval_with_handle(ask, CHANNEL_POLL) {
        on_cleanup(move || handle.clear());
    }
    move || match check.get() {
        None => view! { <p class="channel-status" role="status">"Checking the channel in Slack…"</p> }.into_any(),
        Some(Ok(c)) => {
            let class = match c.state {
                ChannelState::Ready => "channel-status ready",
                ChannelState::Waiting => "channel-status waiting",
                ChannelState::Problem => "channel-status problem",
            };
            view! { <p class=class role="status">{c.message}</p> }.into_any()
        }
        Some(Err(message)) => view! { <p class="channel-status problem" role="status">{message}</p> }.into_any(),
    }
}

#[component]
fn Finish() -> impl IntoView {
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
