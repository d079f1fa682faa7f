//! Invariants of the kernels on small random collections: mass conservation, rows that
//! sum to 1, and results that do not depend on the number of threads.

use attartm_core::{
    artm_estep, attentive_estep, attentive_estep_blocked, bag_of_words, linear_theta,
    thetaless_estep, Accumulate, AttentiveOutput, AttentiveParams, Blocking, ClassicParams,
    Documents, Error, Filter, Gamma, Output, Phi, Variant, WordTopicSums, LONG_DOCUMENT,
};

/// A small deterministic generator (no dependency needed for test data).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> f32 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((self.0 >> 40) as f32) / (1u64 << 24) as f32
    }
    fn below(&mut self, n: usize) -> usize {
        ((self.next() * n as f32) as usize).min(n - 1)
    }
}

struct Case {
    words: Vec<u32>,
    offsets: Vec<i64>,
    phi: Vec<f32>,
    n_t: Vec<f32>,
    n_words: usize,
    n_topics: usize,
}

fn case(seed: u64, n_docs: usize, max_len: usize, n_words: usize, n_topics: usize) -> Case {
    let mut rng = Lcg(seed);
    let mut offsets = vec![0i64];
    let mut words = Vec::new();
    for _ in 0..n_docs {
        let len = rng.below(max_len + 1);
        words.extend((0..len).map(|_| rng.below(n_words) as u32));
        offsets.push(words.len() as i64);
    }
    let mut phi: Vec<f32> = (0..n_words * n_topics).map(|_| rng.next() + 1e-3).collect();
    for t in 0..n_topics {
        let s: f32 = (0..n_words).map(|w| phi[w * n_topics + t]).sum();
        (0..n_words).for_each(|w| phi[w * n_topics + t] /= s);
    }
    let n_t = (0..n_topics).map(|_| 1.0 + 10.0 * rng.next()).collect();
    Case {
        words,
        offsets,
        phi,
        n_t,
        n_words,
        n_topics,
    }
}

fn phi(c: &Case) -> Phi<'_> {
    Phi::checked(&c.phi, c.n_topics).unwrap()
}

fn dense(sums: WordTopicSums) -> Vec<f64> {
    match sums {
        WordTopicSums::Dense(v) => v,
        other => panic!("expected dense sums, got {other:?}"),
    }
}

/// Attentive parameters with two passes, β = 0.5 and the p/n_t filter.
fn two_passes<'a>(gf: &'a [f32], gb: &'a [f32]) -> AttentiveParams<'a> {
    AttentiveParams {
        gamma_forward: Gamma::PerPosition(gf),
        gamma_backward: Gamma::PerPosition(gb),
        reset: None,
        beta: 0.5,
        passes: 2,
        exclude_self: true,
        filter: Filter::POverNt,
        document_weight: 0.0,
        tempering: 1.0,
        document_prior: None,
        context_prior: None,
    }
}

/// p of every token and the dense ñ_wt.
fn tokens_and_sums(docs: &Documents<'_>, c: &Case, ap: &AttentiveParams<'_>) -> AttentiveOutput {
    attentive_estep(docs, phi(c), &c.n_t, ap, Output::Tokens, Accumulate::Dense).unwrap()
}

fn on_threads<T: Send>(threads: usize, work: impl FnOnce() -> T + Send) -> T {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap()
        .install(work)
}

fn params(c: &Case) -> (Vec<f32>, Vec<f32>) {
    let n = c.words.len();
    let gf = (0..n).map(|i| if i % 7 == 3 { 0.0 } else { 0.2 }).collect();
    let gb = (0..n)
        .map(|i| if i % 5 == 1 { 1.0 } else { 0.05 })
        .collect();
    (gf, gb)
}

#[test]
fn classic_estep_conserves_mass_and_normalizes_theta() {
    let c = case(1, 40, 60, 30, 5);
    let docs = Documents::new(&c.words, None, &c.offsets, c.n_words).unwrap();
    let p = ClassicParams {
        doc_passes: 6,
        theta_term: None,
        theta_scale: None,
    };
    let out = artm_estep(&docs, phi(&c), &p, Accumulate::Dense).unwrap();
    let total: f64 = dense(out.n_wt).iter().sum();
    assert!((total - c.words.len() as f64).abs() < 1e-3);
    for row in out.theta.chunks(c.n_topics) {
        let s: f32 = row.iter().sum();
        assert!((s - 1.0).abs() < 1e-5);
    }
}

#[test]
fn bag_of_words_gives_the_same_classic_estep() {
    let c = case(2, 30, 80, 12, 4);
    let docs = Documents::new(&c.words, None, &c.offsets, c.n_words).unwrap();
    let (bo, bw, bc) = bag_of_words(&docs);
    let bow = Documents::new(&bw, Some(&bc), &bo, c.n_words).unwrap();
    let p = ClassicParams {
        doc_passes: 4,
        theta_term: Some(vec![0.1, -0.2, 0.0, 0.3]),
        theta_scale: None,
    };
    let a = artm_estep(&docs, phi(&c), &p, Accumulate::Dense).unwrap();
    let b = artm_estep(&bow, phi(&c), &p, Accumulate::Dense).unwrap();
    for (x, y) in a.theta.iter().zip(&b.theta) {
        assert!((x - y).abs() < 1e-5);
    }
    for (x, y) in dense(a.n_wt).iter().zip(&dense(b.n_wt)) {
        assert!((x - y).abs() < 1e-4);
    }
}

#[test]
fn every_kernel_gives_the_same_bits_on_one_and_three_threads() {
    // Long enough for many chunks, so the merge really runs in parallel.
    let c = case(3, 600, 400, 300, 8);
    let docs = Documents::new(&c.words, None, &c.offsets, c.n_words).unwrap();
    let (gf, gb) = params(&c);
    let run = || {
        let classic = artm_estep(
            &docs,
            phi(&c),
            &ClassicParams {
                doc_passes: 3,
                theta_term: None,
                theta_scale: None,
            },
            Accumulate::Dense,
        )
        .unwrap();
        let ap = AttentiveParams {
            gamma_forward: Gamma::PerPosition(&gf),
            gamma_backward: Gamma::PerPosition(&gb),
            reset: None,
            beta: 0.4,
            passes: 2,
            exclude_self: true,
            filter: Filter::POverNt,
            document_weight: 0.0,
            tempering: 1.0,
            document_prior: None,
            context_prior: None,
        };
        let att = tokens_and_sums(&docs, &c, &ap);
        let tl = thetaless_estep(&docs, phi(&c), &c.n_t, Variant::Full, Accumulate::Dense).unwrap();
        (classic.theta, classic.n_wt, att.values, att.n_wt, tl)
    };
    let one = on_threads(1, run);
    let three = on_threads(3, run);
    assert!(one == three);
}

#[test]
fn attentive_rows_sum_to_one_and_mass_is_conserved() {
    let c = case(4, 25, 50, 20, 6);
    let docs = Documents::new(&c.words, None, &c.offsets, c.n_words).unwrap();
    let (gf, gb) = params(&c);
    for filter in [Filter::POverNt, Filter::Phi] {
        for exclude_self in [true, false] {
            let ap = AttentiveParams {
                gamma_forward: Gamma::PerPosition(&gf),
                gamma_backward: Gamma::PerPosition(&gb),
                reset: None,
                beta: 0.5,
                passes: 3,
                exclude_self,
                filter,
                document_weight: 0.0,
                tempering: 1.0,
                document_prior: None,
                context_prior: None,
            };
            let out = tokens_and_sums(&docs, &c, &ap);
            for row in out.values.chunks(c.n_topics) {
                assert!((row.iter().sum::<f32>() - 1.0).abs() < 1e-5);
            }
            let total: f64 = dense(out.n_wt).iter().sum();
            assert!((total - c.words.len() as f64).abs() < 1e-3);
        }
    }
}

#[test]
fn attentive_top_k_agrees_with_the_token_rows() {
    let c = case(5, 10, 30, 15, 7);
    let docs = Documents::new(&c.words, None, &c.offsets, c.n_words).unwrap();
    let (gf, gb) = params(&c);
    let ap = two_passes(&gf, &gb);
    let none = || Accumulate::None;
    let rows = attentive_estep(&docs, phi(&c), &c.n_t, &ap, Output::Tokens, none()).unwrap();
    let top = attentive_estep(&docs, phi(&c), &c.n_t, &ap, Output::TopK(3), none()).unwrap();
    let pairs = top.topics.chunks(3).zip(top.values.chunks(3));
    for (row, (topics, probs)) in rows.values.chunks(7).zip(pairs) {
        let mut order: Vec<usize> = (0..7).collect();
        order.sort_by(|&a, &b| row[b].partial_cmp(&row[a]).unwrap().then(a.cmp(&b)));
        for j in 0..3 {
            assert_eq!(topics[j] as usize, order[j]);
            assert_eq!(probs[j], row[order[j]]);
        }
    }
    assert!(matches!(
        attentive_estep(&docs, phi(&c), &c.n_t, &ap, Output::TopK(8), none()),
        Err(Error::Value(_))
    ));
}

#[test]
fn attentive_rejects_bad_coefficients() {
    let c = case(6, 3, 5, 4, 2);
    let docs = Documents::new(&c.words, None, &c.offsets, c.n_words).unwrap();
    let n = c.words.len();
    let good = vec![0.5f32; n];
    let nan = vec![f32::NAN; n];
    let short = vec![0.5f32; n.saturating_sub(1)];
    for (gf, beta, passes) in [
        (&nan, 0.5, 1),
        (&short, 0.5, 1),
        (&good, 1.5, 1),
        (&good, 0.5, 0),
    ] {
        let ap = AttentiveParams {
            gamma_forward: Gamma::PerPosition(gf),
            gamma_backward: Gamma::PerPosition(&good),
            reset: None,
            beta,
            passes,
            exclude_self: true,
            filter: Filter::Phi,
            document_weight: 0.0,
            tempering: 1.0,
            document_prior: None,
            context_prior: None,
        };
        let out = attentive_estep(&docs, phi(&c), &c.n_t, &ap, Output::None, Accumulate::Dense);
        assert!(out.is_err());
    }
}

#[test]
fn linear_theta_rows_are_distributions_and_naive_thetaless_conserves_mass() {
    let c = case(7, 20, 40, 10, 3);
    let docs = Documents::new(&c.words, None, &c.offsets, c.n_words).unwrap();
    let theta = linear_theta(&docs, phi(&c), &c.n_t).unwrap();
    for row in theta.chunks(3) {
        assert!((row.iter().sum::<f32>() - 1.0).abs() < 1e-5);
    }
    let naive = thetaless_estep(&docs, phi(&c), &c.n_t, Variant::Naive, Accumulate::Dense);
    let total: f64 = dense(naive.unwrap()).iter().sum();
    assert!((total - c.words.len() as f64).abs() < 1e-3);
    // The full variant's correction sums to zero over topics for every document.
    let full = thetaless_estep(&docs, phi(&c), &c.n_t, Variant::Full, Accumulate::Dense);
    let full_total: f64 = dense(full.unwrap()).iter().sum();
    assert!((full_total - total).abs() < 1e-2);
}

#[test]
fn phi_with_negative_or_nan_entries_is_refused() {
    let c = case(8, 3, 5, 4, 2);
    let mut phi = c.phi.clone();
    phi[3] = -0.1;
    assert!(Phi::checked(&phi, 2).is_err());
    phi[3] = f32::NAN;
    assert!(Phi::checked(&phi, 2).is_err());
    // Trusted: only the shape is checked.
    assert!(Phi::trusted(&phi, 2).is_ok());
    assert!(Phi::trusted(&phi, 3).is_err());
    assert!(Phi::checked(&c.phi, 3).is_err());
}

#[test]
fn a_full_reset_separates_the_two_sides_like_a_document_boundary() {
    let c = case(9, 1, 1, 12, 4);
    let words: Vec<u32> = (0..14).map(|i| (i * 5 % 12) as u32).collect();
    let one = [0i64, 14];
    let two = [0i64, 6, 14];
    let g = vec![0.3f32; 14];
    let mut reset = vec![0f32; 14];
    reset[6] = 1.0;
    for exclude_self in [true, false] {
        let with_reset = AttentiveParams {
            gamma_forward: Gamma::PerPosition(&g),
            gamma_backward: Gamma::PerPosition(&g),
            reset: Some(&reset),
            beta: 0.4,
            passes: 2,
            exclude_self,
            filter: Filter::POverNt,
            document_weight: 0.0,
            tempering: 1.0,
            document_prior: None,
            context_prior: None,
        };
        let without = AttentiveParams {
            reset: None,
            ..with_reset.clone()
        };
        let joined = Documents::new(&words, None, &one, 12).unwrap();
        let split = Documents::new(&words, None, &two, 12).unwrap();
        let ctx = Output::Contexts;
        let a = attentive_estep(
            &joined,
            phi(&c),
            &c.n_t,
            &with_reset,
            ctx,
            Accumulate::Dense,
        );
        let b = attentive_estep(&split, phi(&c), &c.n_t, &without, ctx, Accumulate::Dense);
        let (a, b) = (a.unwrap(), b.unwrap());
        for (x, y) in a.values.iter().zip(&b.values) {
            assert!((x - y).abs() < 1e-6, "{x} vs {y}");
        }
        assert_eq!(a.n_wt, b.n_wt);
    }
}

#[test]
fn a_huge_document_keeps_the_mass_of_a_frequent_word() {
    // One document of 600,000 tokens of one word: f32 sums alone would lose mass.
    let n = 600_000usize;
    let words = vec![0u32; n];
    let offsets = [0i64, n as i64];
    let phi = [0.5f32, 0.5, 0.25, 0.75, 0.25, 0.25];
    let docs = Documents::new(&words, None, &offsets, 2).unwrap();
    let p = ClassicParams {
        doc_passes: 2,
        theta_term: None,
        theta_scale: None,
    };
    let out = artm_estep(&docs, Phi::checked(&phi, 3).unwrap(), &p, Accumulate::Dense).unwrap();
    let total: f64 = dense(out.n_wt).iter().sum();
    // f32 partial sums over at most 65,536 additions, spilled into f64: the worst case (one
    // word only) stays within a few 1e-4, where plain f32 sums would drift further.
    assert!((total - n as f64).abs() / (n as f64) < 1e-3, "{total}");
}

#[test]
fn sparse_rows_and_adding_into_n_wt_equal_the_dense_sums() {
    let c = case(10, 300, 300, 400, 6);
    let docs = Documents::new(&c.words, None, &c.offsets, c.n_words).unwrap();
    let (gf, gb) = params(&c);
    let ap = two_passes(&gf, &gb);
    let cp = ClassicParams {
        doc_passes: 3,
        theta_term: None,
        theta_scale: None,
    };
    let kernels: [&(dyn Fn(Accumulate<'_>) -> WordTopicSums + Sync); 3] = [
        &|how| {
            attentive_estep(&docs, phi(&c), &c.n_t, &ap, Output::None, how)
                .unwrap()
                .n_wt
        },
        &|how| artm_estep(&docs, phi(&c), &cp, how).unwrap().n_wt,
        &|how| thetaless_estep(&docs, phi(&c), &c.n_t, Variant::Full, how).unwrap(),
    ];
    let t = c.n_topics;
    for kernel in kernels {
        let full = on_threads(1, || dense(kernel(Accumulate::Dense)));
        let WordTopicSums::Rows { words, values } = on_threads(3, || kernel(Accumulate::Rows))
        else {
            panic!("expected rows")
        };
        let mut seen: Vec<u32> = c.words.clone();
        seen.sort_unstable();
        seen.dedup();
        assert_eq!(words, seen);
        for (k, &w) in words.iter().enumerate() {
            let w = w as usize;
            assert_eq!(values[k * t..(k + 1) * t], full[w * t..(w + 1) * t]);
        }
        // Negative entries, so that the positive parts of the column sums change apart
        // from the totals.
        let start = |i: usize| i as f64 - (full.len() / 2) as f64;
        let mut n_wt: Vec<f64> = (0..full.len()).map(start).collect();
        let how = Accumulate::Into {
            n_wt: &mut n_wt,
            weight: 0.25,
        };
        let WordTopicSums::Added(change) = on_threads(2, || kernel(how)) else {
            panic!("expected the column change")
        };
        for (i, (a, b)) in n_wt.iter().zip(&full).enumerate() {
            assert!((a - (start(i) + 0.25 * b)).abs() < 1e-9);
        }
        for topic in 0..t {
            let column = |m: &dyn Fn(usize) -> f64, f: fn(f64) -> f64| -> f64 {
                (0..full.len() / t).map(|w| f(m(w * t + topic))).sum()
            };
            let after = |i: usize| n_wt[i];
            let total = column(&after, |v| v) - column(&start, |v| v);
            let positive = column(&after, |v| v.max(0.0)) - column(&start, |v| v.max(0.0));
            assert!((change.total[topic] - total).abs() < 1e-6 * (1.0 + total.abs()));
            assert!((change.positive[topic] - positive).abs() < 1e-6 * (1.0 + positive.abs()));
        }
    }
}

/// With `Blocking::longer_than(LONG_DOCUMENT)`, documents longer than that run a block at a
/// time with the same results, bit for bit, as when they run whole, on any number of
/// threads (here up to 9,000 tokens in blocks of 256 positions, beside short ones; resets,
/// the document head and tempering).
#[test]
fn long_documents_give_the_results_of_whole_documents() {
    let c = case(11, 6, 9_000, 300, 7);
    assert!(
        c.offsets
            .windows(2)
            .filter(|w| w[1] - w[0] > LONG_DOCUMENT as i64)
            .count()
            >= 2
    );
    let docs = Documents::new(&c.words, None, &c.offsets, c.n_words).unwrap();
    let (gf, gb) = params(&c);
    let reset: Vec<f32> = (0..c.words.len())
        .map(|i| [0.0, 0.3, 1.0][i % 101 % 3])
        .collect();
    let cases = [
        (2, 0.0, 0.7, Output::Tokens),
        (3, 0.2, 1.0, Output::DocumentMean),
    ];
    for (passes, document_weight, tempering, output) in cases {
        let ap = AttentiveParams {
            passes,
            document_weight,
            tempering,
            reset: Some(&reset),
            ..two_passes(&gf, &gb)
        };
        let run = |long_document, threads| {
            on_threads(threads, || {
                let sums = Accumulate::Dense;
                let out = attentive_estep_blocked(
                    &docs,
                    phi(&c),
                    &c.n_t,
                    &ap,
                    output,
                    sums,
                    Blocking::longer_than(long_document),
                );
                let out = out.unwrap();
                (out.values, dense(out.n_wt))
            })
        };
        let whole = run(usize::MAX, 1);
        assert_eq!(run(LONG_DOCUMENT, 1), whole);
        assert_eq!(run(LONG_DOCUMENT, 2), whole);
    }
}
