//! The OpenAPI 3.1 document of the sync API, served at `GET /v1/openapi.json`.
//!
//! Nothing here lists endpoints or types by hand: the paths come from the handlers'
//! `#[utoipa::path]` annotations (registered with the router in `api::api_routes`), the
//! schemas from the `ToSchema` derives on the wire types of `tandem-protocol`. This module
//! adds only what belongs to the whole document: its title, tags and the bearer scheme.

use std::sync::LazyLock;

use utoipa::openapi::OpenApi as Document;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

/// The parts of the document that no handler owns.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Tandem sync API",
        description = "The contract between Tandem laptops and the central municipal server \
            (docs/protocol.md). Every error is `{\"error\": code, \"message\": sentence}`.",
    ),
    tags(
        (name = "auth", description = "Signing a device in."),
        (name = "sync", description = "Pushing field changes and pulling the team's writes."),
        (name = "conflicts", description = "The team lead's review queue."),
        (name = "devices", description = "Device health and revocation."),
        (name = "sites", description = "The organisation's sites (NGO premises): reference data devices pull and never edit."),
        (name = "users", description = "The users of the caller's team: reference data devices pull and never edit."),
        (name = "duplicates", description = "Duplicate clients: candidates, merge, undo, dismiss."),
        (name = "privacy", description = "Erasure, the subject-access export and the audit log."),
        (name = "operations", description = "Health check and this document."),
    ),
    modifiers(&DeviceTokenScheme),
)]
struct BaseDocument;

/// Declares the `device_token` bearer scheme that authenticated operations name.
struct DeviceTokenScheme;

impl Modify for DeviceTokenScheme {
    fn modify(&self, document: &mut Document) {
        let components = document.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "device_token",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "The `device_token` of `POST /v1/auth/login`; 401 `device_revoked` \
                         once the device is revoked.",
                    ))
                    .build(),
            ),
        );
    }
}

/// The document's frame, into which `api::api_routes` adds every path.
pub(crate) fn base_document() -> Document {
    BaseDocument::openapi()
}

/// The complete document: every route of [`crate::router`] with its schemas.
pub fn document() -> Document {
    crate::api::api_routes().split_for_parts().1
}

/// The document as served, built once per process.
pub(crate) fn document_json() -> &'static str {
    static JSON: LazyLock<String> = LazyLock::new(|| {
        // Serialising a tree of plain maps and strings cannot fail; a panic here would be a
        // bug in utoipa, found by the first test that fetches the document.
        document()
            .to_pretty_json()
            .expect("the OpenAPI document serialises")
    });
    JSON.as_str()
}
