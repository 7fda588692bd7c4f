//! Login sessions: log in and out, session authentication, throttling of failed logins.
pub mod api;
pub mod input;
pub mod service;
pub mod store;
pub mod throttle;
