// Reading a failed request's Status.

/** Whether a failed request's Status carries a cause of this type (upstream's HasStatusCause). */
export function hasStatusCause(err: unknown, type: string): boolean {
  const causes = (err as { status?: { details?: { causes?: { type?: string }[] } } } | undefined)?.status?.details?.causes;
  return Array.isArray(causes) && causes.some((c) => c.type === type);
}
