/**
 * What an action answered, above the page: a notice (status, read out
 * politely) or an error (alert). The same for every page with actions.
 */
export function ActionNotice({ result }: { result?: { notice?: string | null; error?: string | null } | null }) {
  return (
    <>
      {result?.notice ? (
        <div className="notice" role="status">
          {result.notice}
        </div>
      ) : null}
      {result?.error ? (
        <div className="notice error" role="alert">
          {result.error}
        </div>
      ) : null}
    </>
  )
}
