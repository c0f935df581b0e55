/**
 * The error bodies X sends, as the X API emulator serves them in API 2.159: RFC 7807 problems with X's `type` URIs
 * and titles (2.159's components.schemas Problem, InvalidRequestProblem, ClientForbiddenProblem,
 * ConnectionExceptionProblem, OperationalDisconnectProblem, ...), with the wording seen on the real API where it is
 * known. era-rendering.ts reshapes them for 2.167.
 */

export interface Problem {
  type: string;
  title: string;
  detail?: string;
  status?: number;
  [key: string]: unknown;
}

/** An HTTP answer: status and JSON body. */
export interface JsonAnswer {
  status: number;
  body: Record<string, unknown>;
}

const PROBLEMS = 'https://api.twitter.com/2/problems';

export const unauthorized = (): JsonAnswer => ({
  status: 401,
  body: { title: 'Unauthorized', type: 'about:blank', status: 401, detail: 'Unauthorized' },
});

export const clientNotEnrolled = (): JsonAnswer => ({
  status: 403,
  body: {
    client_id: '12345678',
    detail:
      'When authenticating requests to the Twitter API v2 endpoints, you must use keys and tokens from a Twitter developer App that is attached to a Project. You can create a project via the developer portal.',
    registration_url: 'https://developer.twitter.com/en/docs/projects/overview',
    title: 'Client Forbidden',
    reason: 'client-not-enrolled',
    type: `${PROBLEMS}/client-forbidden`,
  },
});

export const tooManyRequests = (): JsonAnswer => ({
  status: 429,
  body: { title: 'Too Many Requests', detail: 'Too Many Requests', type: 'about:blank', status: 429 },
});

export const tooManyConnections = (): JsonAnswer => ({
  status: 429,
  body: {
    title: 'ConnectionException',
    detail: 'This stream is currently at the maximum allowed connection limit.',
    connection_issue: 'TooManyConnections',
    type: `${PROBLEMS}/streaming-connection`,
  },
});

/** The spec's plain Error schema, with X's code for an unknown route. */
export const notFound = (): JsonAnswer => ({
  status: 404,
  body: { code: 34, message: 'Sorry, that page does not exist' },
});

export const methodNotAllowed = (): JsonAnswer => ({
  status: 405,
  body: { title: 'Method Not Allowed', type: 'about:blank', status: 405, detail: 'Method Not Allowed' },
});

/** One entry of an Invalid Request problem: the offending parameters and X's message. */
export interface InvalidParameter {
  parameters?: Record<string, string[]>;
  message: string;
}

export const invalidRequest = (errors: InvalidParameter[]): JsonAnswer => ({
  status: 400,
  body: {
    errors,
    title: 'Invalid Request',
    detail: 'One or more parameters to your request was invalid.',
    type: `${PROBLEMS}/invalid-request`,
  },
});

/** The object X writes into a stream right before it closes it for operational reasons. */
export const operationalDisconnect = (): { errors: Problem[] } => ({
  errors: [
    {
      title: 'operational-disconnect',
      disconnect_type: 'OperationalDisconnect',
      detail: 'This stream has been disconnected for operational reasons.',
      type: `${PROBLEMS}/operational-disconnect`,
    },
  ],
});

/** A partial error beside data (X hydrates a tweet but not one object it references). */
export const resourceNotFound = (parameter: string, resourceType: string, id: string): Problem => ({
  value: id,
  detail: `Could not find ${resourceType} with ${parameter}: [${id}].`,
  title: 'Not Found Error',
  resource_type: resourceType,
  parameter,
  resource_id: id,
  type: `${PROBLEMS}/resource-not-found`,
});

export const invalidRule = (value: string, details: string[]): Problem => ({
  value,
  details,
  title: 'UnprocessableEntity',
  type: `${PROBLEMS}/invalid-rules`,
});

export const duplicateRule = (value: string, id: string): Problem => ({
  value,
  id,
  title: 'DuplicateRule',
  type: `${PROBLEMS}/duplicate-rules`,
});

export const ruleCap = (max: number): Problem => ({
  title: 'RulesCapExceeded',
  detail: `Rule creation would exceed the maximum of ${max} rules for this client app.`,
  type: `${PROBLEMS}/rule-cap`,
});

export const ruleNotFound = (value: string): Problem => ({
  value,
  details: ['Rule does not exist'],
  title: 'Invalid Request',
  type: `${PROBLEMS}/invalid-request`,
});
