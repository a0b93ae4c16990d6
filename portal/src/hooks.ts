import { useEffect, useRef, useState } from 'react';

/** The current time, re-read every `everyMs` so relative times ("in 5 minutes") stay true. */
export function useNow(everyMs = 15_000): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const id = window.setInterval(() => setNow(Date.now()), everyMs);
    return () => window.clearInterval(id);
  }, [everyMs]);
  return now;
}

/**
 * Runs `task` now and then every `intervalMs` while the page is visible (a hidden tab
 * does not poll; it checks again as soon as it is shown). `task` gets an AbortSignal
 * that fires when the component unmounts. Returns a function that runs it right away.
 */
export function usePolling(task: (signal: AbortSignal) => Promise<void>, intervalMs: number, deps: unknown[]) {
  const taskRef = useRef(task);
  taskRef.current = task;
  const runRef = useRef<() => void>(() => {});

  useEffect(() => {
    const controller = new AbortController();
    let timer: number | undefined;
    let running = false;
    const schedule = () => {
      window.clearTimeout(timer);
      timer = window.setTimeout(run, intervalMs);
    };
    const run = async () => {
      if (controller.signal.aborted) return;
      if (document.visibilityState === 'hidden') return; // resumed by visibilitychange
      if (running) return;
      running = true;
      window.clearTimeout(timer);
      try {
        await taskRef.current(controller.signal);
      } catch {
        /* the task reports its own errors */
      } finally {
        running = false;
        if (!controller.signal.aborted) schedule();
      }
    };
    const onVisible = () => {
      if (document.visibilityState === 'visible') void run();
    };
    runRef.current = () => void run();
    document.addEventListener('visibilitychange', onVisible);
    void run();
    return () => {
      controller.abort();
      window.clearTimeout(timer);
      document.removeEventListener('visibilitychange', onVisible);
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [intervalMs, ...deps]);

  return () => runRef.current();
}
