/**
 * What to do about each error code: the text under its heading in docs/errors.md, turned into
 * JSON when the web package is built, so the page says what the docs say.
 */
let advice: Record<string, string> = {}

export async function loadAdvice (assetsBase: string): Promise<void> {
  try {
    const res = await fetch(`${assetsBase}/error-advice.json`)
    if (res.ok) advice = await res.json() as Record<string, string>
  } catch {
    // Without it, errors still show their code and message.
  }
}

export function adviceFor (code: string): string | null {
  return Object.hasOwn(advice, code) ? advice[code] as string : null
}
