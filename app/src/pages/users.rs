//! `/users` (Manage Users): who may sign in, with which role; add, change
//! role, disable.

use herald_model::account::{NewUser, Role, UserPatch, UserView};
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api;
use crate::auth::Auth;
use crate::components::fields::{Field, SelectField, TextField};
use crate::components::handler;
use crate::components::notice::{FormError, Loader, Outcome, OutcomeNotice, loaded};

#[component]
pub fn Users() -> impl IntoView {
    crate::components::title::set_title("Users");
    let users = Loader::new(api::list_users);
    let reload = users.reloader();
    // The outcome of the last thing done on the page, good or bad: one
    // banner, so an old refusal never sits above a later success.
    let outcome = RwSignal::new(None::<Outcome>);
    view! {
        <section class="page">
            <header class="page-header">
                <h1>"Users"</h1>
            </header>
            <OutcomeNotice outcome />
            {loaded("users", users, move |list| view! { <UserTable users=list.users reload outcome /> }.into_any())}
            <AddUser added=reload outcome />
        </section>
    }
}

#[component]
fn UserTable(users: Vec<UserView>, reload: Callback<()>, outcome: RwSignal<Option<Outcome>>) -> impl IntoView {
    let me = Auth::get().me().map(|me| me.user.id);
    let change = move |id: String, patch: UserPatch| {
        outcome.set(None);
        spawn_local(async move {
            match api::update_user(&id, &patch).await {
                Ok(user) => outcome.set(Some(Outcome { ok: true, message: format!("Saved the changes to {}.", user.email) })),
                Err(err) => outcome.set(Some(Outcome { ok: false, message: err.message })),
            }
            // Either way the table shows what the server holds, not the
            // choice it refused.
            reload.run(());
        });
    };
    view! {
        <table class="list">
            <thead>
                <tr>
                    <th scope="col">"Name"</th>
                    <th scope="col">"Email"</th>
                    <th scope="col">"Role"</th>
                    <th scope="col">"Status"</th>
                    <th scope="col"><span class="visually-hidden">"Actions"</span></th>
                </tr>
            </thead>
            <tbody>
                {users
                    .into_iter()
                    .map(|user| {
                        let you = me.as_deref() == Some(user.id.as_str());
                        let (id_role, id_toggle) = (user.id.clone(), user.id.clone());
                        let enabled = user.enabled;
                        view! {
                            <tr data-email=user.email.clone()>
                                <td>{user.display_name.clone()} {you.then_some(" (you)")}</td>
                                <td class="email">{user.email.clone()}</td>
                                <td>
                                    <select
                                        aria-label=format!("Role of {}", user.email)
                                        on:change=handler(move |ev: leptos::ev::Event| {
                                            if let Some(role) = Role::parse(&event_target_value(&ev)) {
                                                change(id_role.clone(), UserPatch { role: Some(role), ..Default::default() });
                                            }
                                        })
                                    >
                                        {Role::ALL
                                            .into_iter()
                                            .map(|role| view! {
                                                <option value=role.as_str() selected=role == user.role>{role.label()}</option>
                                            })
                                            .collect_view()}
                                    </select>
                                </td>
                                <td data-label="Status">{if enabled { "Enabled" } else { "Disabled" }}</td>
                                <td class="actions">
                                    <button
                                        type="button"
                                        class="button quiet"
                                        on:click=handler(move |_| change(id_toggle.clone(), UserPatch { enabled: Some(!enabled), ..Default::default() }))
                                    >
                                        {if enabled { "Disable" } else { "Enable" }}
                                    </button>
                                </td>
                            </tr>
                        }
                    })
                    .collect_view()}
            </tbody>
        </table>
    }
}

#[component]
fn AddUser(added: Callback<()>, outcome: RwSignal<Option<Outcome>>) -> impl IntoView {
    let email = Field::new(String::new());
    let name = Field::new(String::new());
    let role = RwSignal::new(Role::Analyst);
    let password = Field::new(String::new());
    let error = RwSignal::new(None::<api::ApiError>);
    let field = move |name: &'static str| Signal::derive(move || error.get().and_then(|e| e.field(name)));
    let form_error = Signal::derive(move || error.get().filter(|e| e.fields.is_empty()).map(|e| e.message));

    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let new = NewUser {
            email: email.value.get_untracked(),
            display_name: name.value.get_untracked(),
            role: role.get_untracked(),
            password: password.value.get_untracked(),
        };
        // The same rules the server applies, before a round trip.
        if let Err(fields) = new.validate() {
            error.set(Some(api::ApiError::invalid(fields)));
            return;
        }
        error.set(None);
        spawn_local(async move {
            match api::create_user(&new).await {
                Ok(user) => {
                    outcome.set(Some(Outcome {
                        ok: true,
                        message: format!("Added {}. Give them their password through a safe channel.", user.email),
                    }));
                    for field in [email, name, password] {
                        field.value.set(String::new());
                    }
                    added.run(());
                }
                Err(err) => error.set(Some(err)),
            }
        });
    };

    view! {
        <h2>"Add a user"</h2>
        <form class="form" on:submit=handler(submit) novalidate>
            <TextField id="new-email" name="email" label="Email" field=email input_type="email" message=field("email") />
            <TextField id="new-name" name="displayName" label="Name" field=name message=field("displayName") />
            <SelectField label="Role" id="new-role" name="role" value=Signal::derive(move || role.get().as_str().to_owned())
                options=Role::ALL.into_iter().map(|r| (r.as_str().to_owned(), r.label())).collect()
                changed=Callback::new(move |value: String| if let Some(r) = Role::parse(&value) { role.set(r) }) />
            <TextField id="new-password" name="password" label="First password" field=password input_type="password" autocomplete="new-password"
                message=field("password") />
            <FormError error=form_error />
            <button type="submit" class="button primary">"Add user"</button>
        </form>
    }
}
