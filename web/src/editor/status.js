/** What to say under the status pill after `failures` connection attempts in a row failed. */
export function failureHint(failures, token) {
  if (failures < 3) return '';
  return token
    ? 'cannot connect: the server is unreachable or refused your access token'
    : 'cannot connect: the server is unreachable, or needs a link with an access token';
}
