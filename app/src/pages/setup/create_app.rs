//! Step 2: create the Slack app from Herald's manifest (copied, or
//! downloaded as JSON or YAML).

use herald_model::manifest::ManifestFormat;
use leptos::prelude::*;
use leptos::task::spawn_local;

use super::{SLACK_NEW_APP_URL, SkipTo, StepNav, Wizard};
use crate::api::{self, ApiError};
use crate::components::copy::CopyButton;
use crate::components::handler;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Plan {
    Standard,
    EnterpriseGrid,
}

#[component]
pub(super) fn CreateApp() -> impl IntoView {
    let wizard = expect_context::<Wizard>();
    let plan = RwSignal::new(Plan::Standard);
    let format = RwSignal::new(ManifestFormat::Yaml);
    // A plain signal, not a resource: a resource read here would suspend
    // the whole wizard at each tab or format change (the page flickering,
    // the focus lost); this keeps the old text until the new one is in.
    let manifest = RwSignal::new(None::<Result<herald_model::manifest::ManifestText, ApiError>>);
    // Until the question is answered, the public URL suggests the answer:
    // Slack calls only https URLs.
    let public_url = RwSignal::new(None::<String>);
    let socket_mode =
        Memo::new(move |_| wizard.socket_mode.get().unwrap_or_else(|| public_url.get().is_some_and(|url| !url.starts_with("https://"))));
    // Asked for only when wanted: a destination that mentions user groups
    // by handle has it ticked.
    let user_groups = RwSignal::new(wizard.destination.with_untracked(|d| d.settings.mentions.names_groups()));
    let chosen = move || (format.get(), plan.get() == Plan::EnterpriseGrid, socket_mode.get(), user_groups.get());
    Effect::new(move |_| {
        let now = chosen();
        let (format, grid, socket, groups) = now;
        spawn_local(async move {
            let answer = api::manifest(format, grid, socket, groups).await;
            if let Ok(text) = &answer
                && public_url.get_untracked().is_none()
            {
                public_url.set(Some(text.public_url.clone()));
            }
            // Only the answer for what is chosen now.
            if now == untrack(chosen) {
                manifest.set(Some(answer));
            }
        });
    });
    let shown_url = move || public_url.get().unwrap_or_else(|| "its public URL".to_owned());
    // An app set up one way, answered the other: what to change in Slack.
    let switching = move || {
        let (https, socket) = wizard.destination.with(|d| (d.signing_secret.set && !d.app_token.set, d.app_token.set));
        let base = public_url.get().unwrap_or_default();
        let base = base.trim_end_matches('/');
        match socket_mode.get() {
            true if https => Some(
                "This app takes Slack's requests over https now. To switch it to Socket Mode: in the app's settings in Slack, open \
                 Socket Mode and turn it on, create the app-level token (step 3), and save it in the destination."
                    .to_owned(),
            ),
            false if socket => Some(format!(
                "This app uses Socket Mode now. To switch it to https: in Slack, turn Socket Mode off, enter {base}/slack/events under \
                 Event Subscriptions and {base}/slack/interactivity under Interactivity & Shortcuts, save the Signing Secret in the \
                 destination, then click Stop using Socket Mode there."
            )),
            _ => None,
        }
    };
    let reach = move |socket: bool, label: &'static str, hint: &'static str| {
        view! {
            <label class="check">
                <input type="radio" name="reach" prop:checked=move || socket_mode.get() == socket
                    on:change=handler(move |_| wizard.answer(socket)) />
                <span><strong>{label}</strong>" "<span class="hint">{hint}</span></span>
            </label>
        }
    };
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
        <fieldset class="reach">
            <legend>"Can Slack reach Herald at "<code>{shown_url}</code>" over https?"</legend>
            {reach(false, "Yes", "Slack sends clicks and events to Herald's https address (through your proxy or tunnel).")}
            {reach(true, "No — Herald is behind a firewall", "Herald opens the connection to Slack instead (Socket Mode): nothing from the internet reaches it.")}
        </fieldset>
        {move || switching().map(|text| view! { <p class="notice switching" role="status">{text}</p> })}
        <label class="check user-groups">
            <input type="checkbox" name="userGroups" prop:checked=move || user_groups.get()
                on:change=handler(move |ev: leptos::ev::Event| user_groups.set(event_target_checked(&ev))) />
            <span>
                <strong>"Mention user groups by their handle"</strong>" "
                <span class="hint">"Adds the usergroups:read scope, so Herald can look up a handle like @sec-oncall when you save a destination's mentions. Without it, mention a group by its ID (S0123ABCD), or @here, @channel and people."</span>
            </span>
        </label>
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
