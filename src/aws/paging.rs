//! Page-by-page listing that is complete or fails loudly. A page token that
//! comes back twice would loop forever or, with the SDK's paginators, end
//! the listing early without a word; both are errors here.

use std::collections::HashSet;
use std::future::Future;

use super::AwsError;

/// A listing will never need more pages than this; past it something loops.
pub const MAX_PAGES: usize = 10_000;

/// Calls `fetch` with each page token until a page comes back without one.
pub async fn collect_pages<T, F, Fut>(operation: &str, mut fetch: F) -> Result<Vec<T>, AwsError>
where
    F: FnMut(Option<String>) -> Fut,
    Fut: Future<Output = Result<(Vec<T>, Option<String>), AwsError>>,
{
    let mut items = Vec::new();
    let mut seen = HashSet::new();
    let mut token: Option<String> = None;
    for _ in 0..MAX_PAGES {
        let (page, next) = fetch(token.take()).await?;
        items.extend(page);
        match next.filter(|t| !t.is_empty()) {
            None => return Ok(items),
            Some(next) => {
                if !seen.insert(next.clone()) {
                    return Err(AwsError::incomplete(
                        operation,
                        format!(
                            "the service returned page token {next:?} twice after {} items; \
                             refusing to report a partial listing",
                            items.len()
                        ),
                    ));
                }
                token = Some(next);
            }
        }
    }
    Err(AwsError::incomplete(
        operation,
        format!("more than {MAX_PAGES} pages; refusing to report a partial listing"),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Serves `pages` in order, each with the token that follows it.
    async fn run(pages: Vec<(Vec<u32>, Option<&'static str>)>) -> Result<Vec<u32>, AwsError> {
        let mut calls = 0;
        collect_pages("ListThings", |token| {
            let (items, next) = pages[calls].clone();
            if calls > 0 {
                assert_eq!(token.as_deref(), pages[calls - 1].1);
            } else {
                assert!(token.is_none());
            }
            calls += 1;
            async move { Ok((items, next.map(str::to_string))) }
        })
        .await
    }

    #[tokio::test]
    async fn follows_tokens_to_the_end() {
        let items = run(vec![
            (vec![1, 2], Some("a")),
            (vec![3], Some("b")),
            (vec![4], None),
        ])
        .await
        .unwrap();
        assert_eq!(items, [1, 2, 3, 4]);
    }

    #[tokio::test]
    async fn an_empty_token_ends_the_listing() {
        assert_eq!(run(vec![(vec![1], Some(""))]).await.unwrap(), [1]);
    }

    #[tokio::test]
    async fn a_repeated_token_is_an_error_not_a_short_list() {
        // moto's DescribeScalableTargets does exactly this after page one.
        let err = run(vec![
            (vec![1], Some("t1")),
            (vec![2], Some("t2")),
            (vec![3], Some("t2")),
            (vec![4], None),
        ])
        .await
        .unwrap_err();
        assert_eq!(err.code.as_deref(), Some("IncompleteListing"));
        assert!(err.message.contains("\"t2\" twice after 3 items"), "{err}");
    }

    #[tokio::test]
    async fn errors_from_a_page_stop_the_listing() {
        let err = collect_pages::<u32, _, _>("ListThings", |_| async {
            Err(AwsError {
                operation: "ListThings".into(),
                code: Some("AccessDeniedException".into()),
                message: "no".into(),
                retryable: false,
            })
        })
        .await
        .unwrap_err();
        assert_eq!(err.code.as_deref(), Some("AccessDeniedException"));
    }
}
