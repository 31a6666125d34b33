import { z } from 'zod'

/** A query parameter given empty (`?limit=`) is the same as one left out, not an empty string or 0. */
export const unlessEmpty = <S extends z.ZodType>(schema: S) => z.preprocess(v => v === '' ? undefined : v, schema.optional())
