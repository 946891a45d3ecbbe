// The hidden fields every form on one key posts: the organization's slug and the key's id.
export function KeyFormIds({ slug, keyId }: { slug: string; keyId: string }) {
  return (
    <>
      <input type="hidden" name="org" value={slug} />
      <input type="hidden" name="keyId" value={keyId} />
    </>
  );
}
