//! A Copy button: the Clipboard API, with a visible confirmation, and
//! selecting the text for a manual copy where the API is not available.

use leptos::prelude::*;
use leptos::task::spawn_local;
use wasm_bindgen_futures::JsFuture;

#[component]
pub fn CopyButton(#[prop(into)] text: String) -> impl IntoView {
    let state = RwSignal::new(None::<&'static str>);
    let copy = move |_| {
        let text = text.clone();
        spawn_local(async move {
            let clipboard = web_sys::window().map(|w| w.navigator().clipboard());
            let copied = match clipboard {
                Some(clipboard) => JsFuture::from(clipboard.write_text(&text)).await.is_ok(),
                None => false,
            };
            state.set(Some(if copied { "Copied" } else { "Copy failed: select the text and copy it by hand" }));
        });
    };
    view! {
        <button type="button" class="button" on:click=copy>"Copy"</button>
        {move || state.get().map(|s| view! { <span class="copied" role="status">{s}</span> })}
    }
}
