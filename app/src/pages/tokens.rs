//! `/tokens` (Manage API Tokens): tokens for programs that send alerts.
//! A new token is shown once, right after it is made.

use herald_model::account::{ApiTokenView, CreatedApiToken, NewApiToken};
use herald_model::time::short_utc;
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api;
use crate::components::copy::CopyButton;
use crate::components::fields::{Field, TextField};
use crate::components::handler;
use crate::components::notice::{FormError, Loader, loaded};

#[component]
pub fn Tokens() -> impl IntoView {
    crate::components::title::set_title("API Tokens");
    let tokens = Loader::new(api::list_tokens);
    let reload = tokens.reloader();
    let created = RwSignal::new(None::<CreatedApiToken>);
    view! {
        <section class="page">
            <header class="page-header">
                <h1>"API Tokens"</h1>
            </header>
            <p>
                "Programs that send alerts to Herald authenticate with a token: "
                <code>"Authorization: Bearer <token>"</code>"."
            </p>
            <NewToken created reload />
            {move || created.get().map(|c| view! {
                <div class="notice success secret" role="status">
                    <p>{format!("Token \u{201c}{}\u{201d} created. Copy it now: Herald will not show it again.", c.token.name)}</p>
                    <code class="secret-value">{c.secret.clone()}</code>
                    <CopyButton text=Signal::stored(c.secret.clone()) />
                </div>
            })}
            {loaded("API tokens", tokens, move |list| view! { <TokenTable tokens=list.tokens reload /> }.into_any())}
        </section>
    }
}

#[component]
fn NewToken(created: RwSignal<Option<CreatedApiToken>>, reload: Callback<()>) -> impl IntoView {
    let name = Field::new(String::new());
    let error = RwSignal::new(None::<api::ApiError>);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let new = NewApiToken { name: name.value.get_untracked() };
        if let Err(field) = new.validate() {
            error.set(Some(api::ApiError::invalid(vec![field])));
            return;
        }
        error.set(None);
        spawn_local(async move {
            match api::create_token(&new).await {
                Ok(token) => {
                    created.set(Some(token));
                    name.value.set(String::new());
                    reload.run(());
                }
                Err(err) => error.set(Some(err)),
            }
        });
    };
    view! {
        <form class="form inline" on:submit=handler(submit) novalidate>
            <TextField id="token-name" name="name" label="Name" field=name placeholder="detection pipeline"
                message=Signal::derive(move || error.get().and_then(|e| e.field("name"))) />
            <button type="submit" class="button primary">"Create token"</button>
            <FormError error=Signal::derive(move || error.get().filter(|e| e.fields.is_empty()).map(|e| e.message)) />
        </form>
    }
}

#[component]
fn TokenTable(tokens: Vec<ApiTokenView>, reload: Callback<()>) -> impl IntoView {
    if tokens.is_empty() {
        return view! { <div class="empty"><p>"No API tokens yet."</p></div> }.into_any();
    }
    view! {
        <table class="list">
            <thead>
                <tr>
                    <th scope="col">"Name"</th>
                    <th scope="col">"Token"</th>
                    <th scope="col">"Created"</th>
                    <th scope="col">"Last used"</th>
                    <th scope="col">"Status"</th>
                    <th scope="col"><span class="visually-hidden">"Actions"</span></th>
                </tr>
            </thead>
            <tbody>
                {tokens.into_iter().map(|token| view! { <TokenRow token reload /> }).collect_view()}
            </tbody>
        </table>
    }
    .into_any()
}

#[component]
fn TokenRow(token: ApiTokenView, reload: Callback<()>) -> impl IntoView {
    let confirming = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);
    let revoked = token.revoked_at.is_some();
    let id = token.id.clone();
    let revoke = Callback::new(move |()| {
        let id = id.clone();
        spawn_local(async move {
            match api::revoke_token(&id).await {
                Ok(_) => reload.run(()),
                Err(err) => error.set(Some(err.message)),
            }
        });
    });
    view! {
        <tr data-token=token.name.clone()>
            <td>{token.name.clone()}</td>
            <td><code>{token.hint.clone()}</code></td>
            <td data-label="Created">{short_utc(&token.created_at)}</td>
            <td data-label="Last used">{token.last_used_at.as_deref().map_or_else(|| "Never".to_owned(), short_utc)}</td>
            <td data-label="Status">{if revoked { "Revoked" } else { "Active" }}</td>
            <td class="actions">
                <Show when=move || !revoked>
                    <Show
                        when=move || confirming.get()
                        fallback=move || view! {
                            <button type="button" class="button quiet" on:click=handler(move |_| confirming.set(true))>"Revoke"</button>
                        }
                    >
                        <button type="button" class="button danger" on:click=handler(move |_| revoke.run(()))>"Confirm revoke"</button>
                        <button type="button" class="button quiet" on:click=handler(move |_| confirming.set(false))>"Cancel"</button>
                    </Show>
                </Show>
                {move || error.get().map(|m| view! { <p class="field-error">{m}</p> })}
            </td>
        </tr>
    }
}
