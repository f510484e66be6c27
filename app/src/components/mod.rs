//! Pieces several pages use.

pub mod copy;
pub mod destination_form;
pub mod fields;
pub mod notice;
pub mod shell;
pub mod title;

/// An event handler as the one type all handlers of an event share:
/// `on:click=handler(move |_| …)`. The view code that attaches, clones and
/// type-erases handlers is then one copy per kind of event rather than one
/// per handler.
pub fn handler<E: 'static>(f: impl FnMut(E) + 'static) -> Box<dyn FnMut(E)> {
    Box::new(f)
}
