//! The dashboard's side of the edge: signing in and out (`auth`), the
//! site owner's share links (`admin`) and the dashboard's pages (`pages`).

pub(super) mod admin;
pub(super) mod auth;
pub(super) mod pages;
