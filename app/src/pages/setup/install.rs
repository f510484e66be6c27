//! Step 4: install the app, through Herald (Add to Slack) or by hand.

use herald_model::destination::AppCredentials;
use leptos::prelude::*;
use leptos::task::spawn_local;

use super::{StepNav, Wizard};
use crate::api::{self, ApiError};
use crate::components::handler;
use crate::components::notice::{FieldMessage, FormError, focus_first_invalid};
use crate::router;

#[component]
pub(super) fn InstallApp() -> impl IntoView {
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
    let client_id = RwSignal::new(wizard.destination.with_untracked(|d| d.settings.client_id.clone()));
    let client_secret = RwSignal::new(String::new());
    let signing_secret = RwSignal::new(String::new());
    let app_token = RwSignal::new(String::new());
    let socket_mode = move || wizard.socket_mode();
    let error = RwSignal::new(None::<ApiError>);
    let field_error = move |name: &'static str| Signal::derive(move || error.with(|e| e.as_ref().and_then(|e| e.field(name))));
    let form_error = Signal::derive(move || error.with(|e| e.as_ref().filter(|e| e.fields.is_empty()).map(|e| e.message.clone())));
    let saved = move || wizard.destination.with(|d| d.client_secret.set && !d.settings.client_id.is_empty());
    let install_href = move || wizard.destination.with(|d| format!("/slack/install?destination={}", router::segment(&d.id)));
    let save_and_install = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let id = wizard.destination.with_untracked(|d| d.id.clone());
        let credentials = AppCredentials {
            client_id: client_id.get_untracked(),
            client_secret: Some(client_secret.get_untracked()),
            signing_secret: (!socket_mode()).then(|| signing_secret.get_untracked()),
            app_token: socket_mode().then(|| app_token.get_untracked()),
        };
        spawn_local(async move {
            match api::save_credentials(&id, &credentials).await {
                Ok(view) => {
                    wizard.destination.set(view);
                    // A full navigation: Slack's page is not part of the app.
                    if let Some(window) = web_sys::window() {
                        let _ = window.location().set_href(&format!("/slack/install?destination={}", router::segment(&id)));
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
                            if socket_mode() {
                                ("install-app-token", "App-Level Token (xapp-…)", "appToken", "password", app_token)
                            } else {
                                ("install-signing-secret", "Signing Secret", "signingSecret", "password", signing_secret)
                            },
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
