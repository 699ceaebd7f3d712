import { useRevalidator } from '@remix-run/react'
import { useEffect, useRef } from 'react'

/**
 * Reads the page's loader again every `intervalMs` while `active` (something
 * is still under way), and not at all once it is not: no polling of a page
 * where everything has finished. A reload already running is not doubled.
 */
export function useRevalidateWhile(active: boolean, intervalMs: number) {
  const revalidator = useRevalidator()
  // The revalidator is a new object on every render; the timer must not restart for that.
  const latest = useRef(revalidator)
  latest.current = revalidator
  useEffect(() => {
    if (!active) return
    const timer = setInterval(() => {
      if (latest.current.state === 'idle') latest.current.revalidate()
    }, intervalMs)
    return () => clearInterval(timer)
  }, [active, intervalMs])
}
