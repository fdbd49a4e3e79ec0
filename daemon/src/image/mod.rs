//! Skill images: references, lifecycle tags, and the deterministic build
//! (walk the folder, write the layer, config and manifest).

pub mod annotations;
pub mod build;
pub mod extract;
pub mod inflate;
pub mod inspect;
pub mod layer;
pub mod lifecycle;
pub mod links;
pub mod promote;
pub mod reference;
pub mod registry_name;
pub mod unpack;
pub mod walk;
