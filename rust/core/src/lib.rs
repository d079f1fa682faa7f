//! attartm-core: the algorithms of attartm (classic ARTM, Θ-less ARTM and attentive ARTM)
//! over plain slices, parallel with rayon, with results independent of the thread count.
//! No Python here: the `attartm` binding crate converts and validates, then calls in.

pub mod accumulate;
pub mod attentive;
pub mod bags;
pub mod cancel;
pub mod classic;
pub mod coherence;
pub mod documents;
pub mod error;
pub mod fragments;
pub mod kept;
pub mod lanes;
pub mod matrix;
pub mod memory;
pub mod online;
pub mod thetaless;
pub mod tokenize;
pub mod vector;

pub use accumulate::{Accumulate, ColumnChange, WordTopicSums};
pub use attentive::{
    attentive_estep, attentive_estep_blocked, attentive_visit, AttentiveOutput, AttentiveParams,
    Blocking, Filter, Gamma, Output, VisitDocuments, Visitor, LONG_DOCUMENT,
};
pub use bags::{bags_estep, BagsOutput};
pub use classic::{artm_estep, bag_of_words, ClassicOutput, ClassicParams};
pub use coherence::{window_counts, CountSpec, Sliding, WindowCounts};
pub use documents::Documents;
pub use error::{Error, Result};
pub use fragments::{attentive_fragments, Fragment, FragmentSpec};
pub use matrix::{Phi, TopicMasses};
pub use thetaless::{
    linear_theta, linear_theta_modalities, thetaless_estep, thetaless_estep_modalities, Variant,
};
pub use tokenize::{TextChunk, Texts, Tokenizer, Tokens, WordCounter};
