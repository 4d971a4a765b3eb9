// node_modules/@cfworker/json-schema/dist/esm/deep-compare-strict.js
function deepCompareStrict(a, b) {
  const typeofa = typeof a;
  if (typeofa !== typeof b) {
    return false;
  }
  const aIsArray = Array.isArray(a);
  const bIsArray = Array.isArray(b);
  if (aIsArray !== bIsArray) {
    return false;
  }
  if (aIsArray) {
    const length = a.length;
    if (length !== b.length) {
      return false;
    }
    for (let i = 0; i < length; i++) {
      if (!deepCompareStrict(a[i], b[i])) {
        return false;
      }
    }
    return true;
  }
  if (typeofa === "object") {
    if (!a || !b) {
      return a === b;
    }
    const aKeys = Object.keys(a);
    const bKeys = Object.keys(b);
    const length = aKeys.length;
    if (length !== bKeys.length) {
      return false;
    }
    for (const k of aKeys) {
      if (!Object.prototype.hasOwnProperty.call(b, k)) {
        return false;
      }
      if (!deepCompareStrict(a[k], b[k])) {
        return false;
      }
    }
    return true;
  }
  return a === b;
}

// node_modules/@cfworker/json-schema/dist/esm/pointer.js
function encodePointer(p) {
  return encodeURI(escapePointer(p)).replace(/#/g, "%23");
}
function escapePointer(p) {
  return p.replace(/~/g, "~0").replace(/\//g, "~1");
}

// node_modules/@cfworker/json-schema/dist/esm/dereference.js
var uriFragmentCharacter = /^[A-Za-z0-9._~!$&'()*+,;=:@/?-]$/;
var uriPercentEncoding = /^%[0-9A-Fa-f]{2}$/;
var uriUnreservedCharacter = /^[A-Za-z0-9._~-]$/;
function normalizeURIFragment(fragment) {
  let normalized = "";
  for (let index = 0; index < fragment.length; ) {
    const character = fragment[index];
    const encoded = fragment.slice(index, index + 3);
    if (character === "%" && uriPercentEncoding.test(encoded)) {
      const decoded = String.fromCharCode(parseInt(encoded.slice(1), 16));
      normalized += uriUnreservedCharacter.test(decoded) ? decoded : encoded.toUpperCase();
      index += 3;
      continue;
    }
    const codePoint = String.fromCodePoint(fragment.codePointAt(index));
    normalized += uriFragmentCharacter.test(codePoint) ? codePoint : encodeURIComponent(codePoint);
    index += codePoint.length;
  }
  return normalized;
}
function resolveURI(reference, baseURI) {
  const url = new URL(reference, baseURI.href);
  url.hash = url.hash ? normalizeURIFragment(url.hash.slice(1)) : "";
  return url;
}
var schemaArrayKeyword = {
  prefixItems: true,
  items: true,
  allOf: true,
  anyOf: true,
  oneOf: true
};
var schemaMapKeyword = {
  $defs: true,
  definitions: true,
  properties: true,
  patternProperties: true,
  dependentSchemas: true
};
var ignoredKeyword = {
  id: true,
  $id: true,
  $ref: true,
  $schema: true,
  $anchor: true,
  $vocabulary: true,
  $comment: true,
  default: true,
  enum: true,
  const: true,
  required: true,
  dependentRequired: true,
  type: true,
  maximum: true,
  minimum: true,
  exclusiveMaximum: true,
  exclusiveMinimum: true,
  multipleOf: true,
  maxLength: true,
  minLength: true,
  pattern: true,
  format: true,
  maxItems: true,
  minItems: true,
  uniqueItems: true,
  maxProperties: true,
  minProperties: true
};
var initialBaseURI = typeof self !== "undefined" && self.location && self.location.origin !== "null" ? new URL(self.location.origin + self.location.pathname + location.search) : new URL("https://github.com/cfworker");
function dereference(schema, lookup = /* @__PURE__ */ Object.create(null), baseURI = initialBaseURI, basePointer = "") {
  if (schema && typeof schema === "object" && !Array.isArray(schema)) {
    const id2 = schema.$id || schema["id"];
    if (id2) {
      const url = resolveURI(id2, baseURI);
      if (url.hash.length > 1) {
        lookup[url.href] = schema;
      } else {
        url.hash = "";
        if (basePointer === "") {
          baseURI = url;
        } else {
          dereference(schema, lookup, baseURI);
        }
      }
    }
  } else if (schema !== true && schema !== false) {
    return lookup;
  }
  const schemaURI = baseURI.href + (basePointer ? "#" + basePointer : "");
  if (lookup[schemaURI] !== void 0 && lookup[schemaURI] !== schema) {
    throw new Error(`Duplicate schema URI "${schemaURI}".`);
  }
  lookup[schemaURI] = schema;
  if (schema === true || schema === false) {
    return lookup;
  }
  if (schema.__absolute_uri__ === void 0) {
    Object.defineProperty(schema, "__absolute_uri__", {
      enumerable: false,
      value: schemaURI
    });
  }
  if (schema.$ref && schema.__absolute_ref__ === void 0) {
    const url = resolveURI(schema.$ref, baseURI);
    Object.defineProperty(schema, "__absolute_ref__", {
      enumerable: false,
      value: url.href
    });
  }
  if (schema.$recursiveRef && schema.__absolute_recursive_ref__ === void 0) {
    const url = resolveURI(schema.$recursiveRef, baseURI);
    Object.defineProperty(schema, "__absolute_recursive_ref__", {
      enumerable: false,
      value: url.href
    });
  }
  if (schema.$anchor) {
    const url = resolveURI("#" + schema.$anchor, baseURI);
    lookup[url.href] = schema;
  }
  for (let key in schema) {
    if (ignoredKeyword[key]) {
      continue;
    }
    const keyBase = `${basePointer}/${encodePointer(key)}`;
    const subSchema = schema[key];
    if (Array.isArray(subSchema)) {
      if (schemaArrayKeyword[key]) {
        const length = subSchema.length;
        for (let i = 0; i < length; i++) {
          dereference(subSchema[i], lookup, baseURI, `${keyBase}/${i}`);
        }
      }
    } else if (schemaMapKeyword[key]) {
      for (let subKey in subSchema) {
        dereference(subSchema[subKey], lookup, baseURI, `${keyBase}/${encodePointer(subKey)}`);
      }
    } else {
      dereference(subSchema, lookup, baseURI, keyBase);
    }
  }
  return lookup;
}

// node_modules/@cfworker/json-schema/dist/esm/format.js
var DATE = /^(\d\d\d\d)-(\d\d)-(\d\d)$/;
var DAYS = [0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
var TIME = /^(\d\d):(\d\d):(\d\d)(\.\d+)?(z|([+-])(\d\d):(\d\d))?$/i;
var HOSTNAME = /^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[-0-9a-z]{0,61}[0-9a-z])?)*$/i;
var URIREF = /^(?:[a-z][a-z0-9+\-.]*:)?(?:\/?\/(?:(?:[a-z0-9\-._~!$&'()*+,;=:]|%[0-9a-f]{2})*@)?(?:\[(?:(?:(?:(?:[0-9a-f]{1,4}:){6}|::(?:[0-9a-f]{1,4}:){5}|(?:[0-9a-f]{1,4})?::(?:[0-9a-f]{1,4}:){4}|(?:(?:[0-9a-f]{1,4}:){0,1}[0-9a-f]{1,4})?::(?:[0-9a-f]{1,4}:){3}|(?:(?:[0-9a-f]{1,4}:){0,2}[0-9a-f]{1,4})?::(?:[0-9a-f]{1,4}:){2}|(?:(?:[0-9a-f]{1,4}:){0,3}[0-9a-f]{1,4})?::[0-9a-f]{1,4}:|(?:(?:[0-9a-f]{1,4}:){0,4}[0-9a-f]{1,4})?::)(?:[0-9a-f]{1,4}:[0-9a-f]{1,4}|(?:(?:25[0-5]|2[0-4]\d|[01]?\d\d?)\.){3}(?:25[0-5]|2[0-4]\d|[01]?\d\d?))|(?:(?:[0-9a-f]{1,4}:){0,5}[0-9a-f]{1,4})?::[0-9a-f]{1,4}|(?:(?:[0-9a-f]{1,4}:){0,6}[0-9a-f]{1,4})?::)|[Vv][0-9a-f]+\.[a-z0-9\-._~!$&'()*+,;=:]+)\]|(?:(?:25[0-5]|2[0-4]\d|[01]?\d\d?)\.){3}(?:25[0-5]|2[0-4]\d|[01]?\d\d?)|(?:[a-z0-9\-._~!$&'"()*+,;=]|%[0-9a-f]{2})*)(?::\d*)?(?:\/(?:[a-z0-9\-._~!$&'"()*+,;=:@]|%[0-9a-f]{2})*)*|\/(?:(?:[a-z0-9\-._~!$&'"()*+,;=:@]|%[0-9a-f]{2})+(?:\/(?:[a-z0-9\-._~!$&'"()*+,;=:@]|%[0-9a-f]{2})*)*)?|(?:[a-z0-9\-._~!$&'"()*+,;=:@]|%[0-9a-f]{2})+(?:\/(?:[a-z0-9\-._~!$&'"()*+,;=:@]|%[0-9a-f]{2})*)*)?(?:\?(?:[a-z0-9\-._~!$&'"()*+,;=:@/?]|%[0-9a-f]{2})*)?(?:#(?:[a-z0-9\-._~!$&'"()*+,;=:@/?]|%[0-9a-f]{2})*)?$/i;
var URITEMPLATE = /^(?:(?:[^\x00-\x20\x7f"<>%\\^`{|}]|%[0-9a-f]{2})|\{[+#./;?&=,!@|]?(?:[a-z0-9_]|%[0-9a-f]{2})+(?:\.(?:[a-z0-9_]|%[0-9a-f]{2})+)*(?::[1-9][0-9]{0,3}|\*)?(?:,(?:[a-z0-9_]|%[0-9a-f]{2})+(?:\.(?:[a-z0-9_]|%[0-9a-f]{2})+)*(?::[1-9][0-9]{0,3}|\*)?)*\})*$/i;
var URL_ = /^(?:(?:https?|ftp):\/\/)(?:\S+(?::\S*)?@)?(?:(?!10(?:\.\d{1,3}){3})(?!127(?:\.\d{1,3}){3})(?!169\.254(?:\.\d{1,3}){2})(?!192\.168(?:\.\d{1,3}){2})(?!172\.(?:1[6-9]|2\d|3[0-1])(?:\.\d{1,3}){2})(?:[1-9]\d?|1\d\d|2[01]\d|22[0-3])(?:\.(?:1?\d{1,2}|2[0-4]\d|25[0-5])){2}(?:\.(?:[1-9]\d?|1\d\d|2[0-4]\d|25[0-4]))|(?:(?:[a-z\u{00a1}-\u{ffff}0-9]+-?)*[a-z\u{00a1}-\u{ffff}0-9]+)(?:\.(?:[a-z\u{00a1}-\u{ffff}0-9]+-?)*[a-z\u{00a1}-\u{ffff}0-9]+)*(?:\.(?:[a-z\u{00a1}-\u{ffff}]{2,})))(?::\d{2,5})?(?:\/[^\s]*)?$/iu;
var UUID = /^[0-9a-f]{8}-(?:[0-9a-f]{4}-){3}[0-9a-f]{12}$/i;
var JSON_POINTER = /^(?:\/(?:[^~/]|~0|~1)*)*$/;
var JSON_POINTER_URI_FRAGMENT = /^#(?:\/(?:[a-z0-9_\-.!$&'()*+,;:=@]|%[0-9a-f]{2}|~0|~1)*)*$/i;
var RELATIVE_JSON_POINTER = /^(?:0|[1-9][0-9]*)(?:#|(?:\/(?:[^~/]|~0|~1)*)*)$/;
var EMAIL_ADDRESS = /^("(?:[\x20-\x21\x23-\x5b\x5d-\x7e]|\\[\x20-\x7e])*"|[a-z0-9.!#$%&'*+/=?^_`{|}~-]+)@(.+)$/i;
var EMAIL = (input) => {
  const matches = input.match(EMAIL_ADDRESS);
  if (!matches)
    return false;
  const name = matches[1];
  const host = matches[2];
  if (!name || !host || name.length > 64 || host.length > 253)
    return false;
  if (name[0] !== '"' && (name[0] === "." || name.endsWith(".") || name.includes(".."))) {
    return false;
  }
  if (host.startsWith("[") && host.endsWith("]")) {
    const address = host.slice(1, -1);
    if (/^ipv6:/i.test(address))
      return IPV6.test(address.slice(5));
    return IPV4.test(address);
  }
  return HOSTNAME.test(host);
};
var IPV4 = /^(?:(?:25[0-5]|2[0-4]\d|[01]?\d\d?)\.){3}(?:25[0-5]|2[0-4]\d|[01]?\d\d?)$/;
var IPV6 = /^((([0-9a-f]{1,4}:){7}([0-9a-f]{1,4}|:))|(([0-9a-f]{1,4}:){6}(:[0-9a-f]{1,4}|((25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3})|:))|(([0-9a-f]{1,4}:){5}(((:[0-9a-f]{1,4}){1,2})|:((25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3})|:))|(([0-9a-f]{1,4}:){4}(((:[0-9a-f]{1,4}){1,3})|((:[0-9a-f]{1,4})?:((25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}))|:))|(([0-9a-f]{1,4}:){3}(((:[0-9a-f]{1,4}){1,4})|((:[0-9a-f]{1,4}){0,2}:((25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}))|:))|(([0-9a-f]{1,4}:){2}(((:[0-9a-f]{1,4}){1,5})|((:[0-9a-f]{1,4}){0,3}:((25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}))|:))|(([0-9a-f]{1,4}:){1}(((:[0-9a-f]{1,4}){1,6})|((:[0-9a-f]{1,4}){0,4}:((25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}))|:))|(:(((:[0-9a-f]{1,4}){1,7})|((:[0-9a-f]{1,4}){0,5}:((25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}))|:)))$/i;
var DURATION = (input) => /^P(?:\d+W|(?:(?:\d+Y(?:\d+M(?:\d+D)?)?|\d+M(?:\d+D)?|\d+D)(?:T(?:\d+H(?:\d+M(?:\d+S)?)?|\d+M(?:\d+S)?|\d+S))?|T(?:\d+H(?:\d+M(?:\d+S)?)?|\d+M(?:\d+S)?|\d+S)))$/.test(input);
function bind(r) {
  return r.test.bind(r);
}
var format = {
  date,
  time: time.bind(void 0, true),
  "date-time": date_time,
  duration: DURATION,
  uri,
  "uri-reference": bind(URIREF),
  "uri-template": bind(URITEMPLATE),
  url: bind(URL_),
  email: EMAIL,
  hostname: bind(HOSTNAME),
  ipv4: bind(IPV4),
  ipv6: bind(IPV6),
  regex,
  uuid: bind(UUID),
  "json-pointer": bind(JSON_POINTER),
  "json-pointer-uri-fragment": bind(JSON_POINTER_URI_FRAGMENT),
  "relative-json-pointer": bind(RELATIVE_JSON_POINTER)
};
function isLeapYear(year) {
  return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
}
function date(str) {
  const matches = str.match(DATE);
  if (!matches)
    return false;
  const yearPart = matches[1];
  const monthPart = matches[2];
  const dayPart = matches[3];
  if (!yearPart || !monthPart || !dayPart)
    return false;
  const year = +yearPart;
  const month = +monthPart;
  const day = +dayPart;
  const maxDay = month == 2 && isLeapYear(year) ? 29 : DAYS[month];
  return month >= 1 && month <= 12 && day >= 1 && maxDay !== void 0 && day <= maxDay;
}
function time(full, str) {
  const matches = str.match(TIME);
  if (!matches)
    return false;
  const hourPart = matches[1];
  const minutePart = matches[2];
  const secondPart = matches[3];
  if (!hourPart || !minutePart || !secondPart)
    return false;
  const hour = +hourPart;
  const minute = +minutePart;
  const second = +secondPart;
  const timeZone = matches[5];
  const offsetSign = matches[6];
  const offsetHour = +(matches[7] ?? 0);
  const offsetMinute = +(matches[8] ?? 0);
  if (hour > 23 || minute > 59 || second > 60 || offsetHour > 23 || offsetMinute > 59 || full && timeZone === void 0) {
    return false;
  }
  if (second < 60)
    return true;
  const offsetDirection = offsetSign === "+" ? 1 : offsetSign === "-" ? -1 : 0;
  const utcMinute = (hour * 60 + minute - offsetDirection * (offsetHour * 60 + offsetMinute) + 24 * 60) % (24 * 60);
  return utcMinute === 23 * 60 + 59;
}
var DATE_TIME_SEPARATOR = /t|\s/i;
function date_time(str) {
  const [datePart, timePart, extra] = str.split(DATE_TIME_SEPARATOR);
  return datePart !== void 0 && timePart !== void 0 && extra === void 0 && date(datePart) && time(true, timePart);
}
var NOT_URI_FRAGMENT = /\/|:/;
var URI_PATTERN = /^(?:[a-z][a-z0-9+\-.]*:)(?:\/?\/(?:(?:[a-z0-9\-._~!$&'()*+,;=:]|%[0-9a-f]{2})*@)?(?:\[(?:(?:(?:(?:[0-9a-f]{1,4}:){6}|::(?:[0-9a-f]{1,4}:){5}|(?:[0-9a-f]{1,4})?::(?:[0-9a-f]{1,4}:){4}|(?:(?:[0-9a-f]{1,4}:){0,1}[0-9a-f]{1,4})?::(?:[0-9a-f]{1,4}:){3}|(?:(?:[0-9a-f]{1,4}:){0,2}[0-9a-f]{1,4})?::(?:[0-9a-f]{1,4}:){2}|(?:(?:[0-9a-f]{1,4}:){0,3}[0-9a-f]{1,4})?::[0-9a-f]{1,4}:|(?:(?:[0-9a-f]{1,4}:){0,4}[0-9a-f]{1,4})?::)(?:[0-9a-f]{1,4}:[0-9a-f]{1,4}|(?:(?:25[0-5]|2[0-4]\d|[01]?\d\d?)\.){3}(?:25[0-5]|2[0-4]\d|[01]?\d\d?))|(?:(?:[0-9a-f]{1,4}:){0,5}[0-9a-f]{1,4})?::[0-9a-f]{1,4}|(?:(?:[0-9a-f]{1,4}:){0,6}[0-9a-f]{1,4})?::)|[Vv][0-9a-f]+\.[a-z0-9\-._~!$&'()*+,;=:]+)\]|(?:(?:25[0-5]|2[0-4]\d|[01]?\d\d?)\.){3}(?:25[0-5]|2[0-4]\d|[01]?\d\d?)|(?:[a-z0-9\-._~!$&'()*+,;=]|%[0-9a-f]{2})*)(?::\d*)?(?:\/(?:[a-z0-9\-._~!$&'()*+,;=:@]|%[0-9a-f]{2})*)*|\/(?:(?:[a-z0-9\-._~!$&'()*+,;=:@]|%[0-9a-f]{2})+(?:\/(?:[a-z0-9\-._~!$&'()*+,;=:@]|%[0-9a-f]{2})*)*)?|(?:[a-z0-9\-._~!$&'()*+,;=:@]|%[0-9a-f]{2})+(?:\/(?:[a-z0-9\-._~!$&'()*+,;=:@]|%[0-9a-f]{2})*)*)(?:\?(?:[a-z0-9\-._~!$&'()*+,;=:@/?]|%[0-9a-f]{2})*)?(?:#(?:[a-z0-9\-._~!$&'()*+,;=:@/?]|%[0-9a-f]{2})*)?$/i;
function uri(str) {
  return NOT_URI_FRAGMENT.test(str) && URI_PATTERN.test(str);
}
var Z_ANCHOR = /[^\\]\\Z/;
function regex(str) {
  if (Z_ANCHOR.test(str))
    return false;
  try {
    new RegExp(str, "u");
    return true;
  } catch (e) {
    return false;
  }
}

// node_modules/@cfworker/json-schema/dist/esm/ucs2-length.js
function ucs2length(s) {
  let result = 0;
  let length = s.length;
  let index = 0;
  let charCode;
  while (index < length) {
    result++;
    charCode = s.charCodeAt(index++);
    if (charCode >= 55296 && charCode <= 56319 && index < length) {
      charCode = s.charCodeAt(index);
      if ((charCode & 64512) == 56320) {
        index++;
      }
    }
  }
  return result;
}

// node_modules/@cfworker/json-schema/dist/esm/validate.js
function hasOwnProperty(instance, key) {
  return Object.prototype.hasOwnProperty.call(instance, key);
}
function decimalInteger(value) {
  const coefficientAndExponent = Math.abs(value).toString().split("e");
  const coefficient = coefficientAndExponent[0];
  const exponent = coefficientAndExponent[1] ?? "0";
  const point = coefficient.indexOf(".");
  const fractionLength = point === -1 ? 0 : coefficient.length - point - 1;
  return [
    BigInt(coefficient.replace(".", "")),
    Number(exponent) - fractionLength
  ];
}
function isMultipleOf(instance, divisor) {
  if (!Number.isFinite(instance) || !Number.isFinite(divisor) || divisor <= 0) {
    return false;
  }
  const [instanceCoefficient, instanceExponent] = decimalInteger(instance);
  const [divisorCoefficient, divisorExponent] = decimalInteger(divisor);
  const exponentDifference = instanceExponent - divisorExponent;
  if (exponentDifference >= 0) {
    return instanceCoefficient * 10n ** BigInt(exponentDifference) % divisorCoefficient === 0n;
  }
  return instanceCoefficient % (divisorCoefficient * 10n ** BigInt(-exponentDifference)) === 0n;
}
function validate(instance, schema, draft = "2019-09", lookup = dereference(schema), shortCircuit = true, recursiveAnchor = null, instanceLocation = "#", schemaLocation = "#", evaluated = /* @__PURE__ */ Object.create(null)) {
  if (schema === true) {
    return { valid: true, errors: [] };
  }
  if (schema === false) {
    return {
      valid: false,
      errors: [
        {
          instanceLocation,
          keyword: "false",
          keywordLocation: instanceLocation,
          error: "False boolean schema."
        }
      ]
    };
  }
  const rawInstanceType = typeof instance;
  let instanceType;
  switch (rawInstanceType) {
    case "boolean":
    case "number":
    case "string":
      instanceType = rawInstanceType;
      break;
    case "object":
      if (instance === null) {
        instanceType = "null";
      } else if (Array.isArray(instance)) {
        instanceType = "array";
      } else {
        instanceType = "object";
      }
      break;
    default:
      throw new Error(`Instances of "${rawInstanceType}" type are not supported.`);
  }
  const { $ref, $recursiveRef, $recursiveAnchor, type: $type, const: $const, enum: $enum, required: $required, not: $not, anyOf: $anyOf, allOf: $allOf, oneOf: $oneOf, if: $if, then: $then, else: $else, format: $format, properties: $properties, patternProperties: $patternProperties, additionalProperties: $additionalProperties, unevaluatedProperties: $unevaluatedProperties, minProperties: $minProperties, maxProperties: $maxProperties, propertyNames: $propertyNames, dependentRequired: $dependentRequired, dependentSchemas: $dependentSchemas, dependencies: $dependencies, prefixItems: $prefixItems, items: $items, additionalItems: $additionalItems, unevaluatedItems: $unevaluatedItems, contains: $contains, minContains: $minContains, maxContains: $maxContains, minItems: $minItems, maxItems: $maxItems, uniqueItems: $uniqueItems, minimum: $minimum, maximum: $maximum, exclusiveMinimum: $exclusiveMinimum, exclusiveMaximum: $exclusiveMaximum, multipleOf: $multipleOf, minLength: $minLength, maxLength: $maxLength, pattern: $pattern, __absolute_ref__, __absolute_recursive_ref__ } = schema;
  const errors = [];
  if ($recursiveAnchor === true && recursiveAnchor === null) {
    recursiveAnchor = schema;
  }
  if ($recursiveRef === "#") {
    const refSchema = recursiveAnchor === null ? lookup[__absolute_recursive_ref__] : recursiveAnchor;
    const keywordLocation = `${schemaLocation}/$recursiveRef`;
    const result = validate(instance, recursiveAnchor === null ? schema : recursiveAnchor, draft, lookup, shortCircuit, refSchema, instanceLocation, keywordLocation, evaluated);
    if (!result.valid) {
      errors.push({
        instanceLocation,
        keyword: "$recursiveRef",
        keywordLocation,
        error: "A subschema had errors."
      }, ...result.errors);
    }
  }
  if ($ref !== void 0) {
    const uri2 = __absolute_ref__ || $ref;
    const refSchema = lookup[uri2];
    if (refSchema === void 0) {
      let message = `Unresolved $ref "${$ref}".`;
      if (__absolute_ref__ && __absolute_ref__ !== $ref) {
        message += `  Absolute URI "${__absolute_ref__}".`;
      }
      message += `
Known schemas:
- ${Object.keys(lookup).join("\n- ")}`;
      throw new Error(message);
    }
    const keywordLocation = `${schemaLocation}/$ref`;
    const result = validate(instance, refSchema, draft, lookup, shortCircuit, recursiveAnchor, instanceLocation, keywordLocation, evaluated);
    if (!result.valid) {
      errors.push({
        instanceLocation,
        keyword: "$ref",
        keywordLocation,
        error: "A subschema had errors."
      }, ...result.errors);
    }
    if (draft === "4" || draft === "7") {
      return { valid: errors.length === 0, errors };
    }
  }
  if (Array.isArray($type)) {
    let length = $type.length;
    let valid = false;
    for (let i = 0; i < length; i++) {
      if (instanceType === $type[i] || $type[i] === "integer" && instanceType === "number" && instance % 1 === 0 && instance === instance) {
        valid = true;
        break;
      }
    }
    if (!valid) {
      errors.push({
        instanceLocation,
        keyword: "type",
        keywordLocation: `${schemaLocation}/type`,
        error: `Instance type "${instanceType}" is invalid. Expected "${$type.join('", "')}".`
      });
    }
  } else if ($type === "integer") {
    if (instanceType !== "number" || instance % 1 || instance !== instance) {
      errors.push({
        instanceLocation,
        keyword: "type",
        keywordLocation: `${schemaLocation}/type`,
        error: `Instance type "${instanceType}" is invalid. Expected "${$type}".`
      });
    }
  } else if ($type !== void 0 && instanceType !== $type) {
    errors.push({
      instanceLocation,
      keyword: "type",
      keywordLocation: `${schemaLocation}/type`,
      error: `Instance type "${instanceType}" is invalid. Expected "${$type}".`
    });
  }
  if ($const !== void 0) {
    if (instanceType === "object" || instanceType === "array") {
      if (!deepCompareStrict(instance, $const)) {
        errors.push({
          instanceLocation,
          keyword: "const",
          keywordLocation: `${schemaLocation}/const`,
          error: `Instance does not match ${JSON.stringify($const)}.`
        });
      }
    } else if (instance !== $const) {
      errors.push({
        instanceLocation,
        keyword: "const",
        keywordLocation: `${schemaLocation}/const`,
        error: `Instance does not match ${JSON.stringify($const)}.`
      });
    }
  }
  if ($enum !== void 0) {
    if (instanceType === "object" || instanceType === "array") {
      if (!$enum.some((value) => deepCompareStrict(instance, value))) {
        errors.push({
          instanceLocation,
          keyword: "enum",
          keywordLocation: `${schemaLocation}/enum`,
          error: `Instance does not match any of ${JSON.stringify($enum)}.`
        });
      }
    } else if (!$enum.some((value) => instance === value)) {
      errors.push({
        instanceLocation,
        keyword: "enum",
        keywordLocation: `${schemaLocation}/enum`,
        error: `Instance does not match any of ${JSON.stringify($enum)}.`
      });
    }
  }
  if ($not !== void 0) {
    const keywordLocation = `${schemaLocation}/not`;
    const result = validate(instance, $not, draft, lookup, shortCircuit, recursiveAnchor, instanceLocation, keywordLocation);
    if (result.valid) {
      errors.push({
        instanceLocation,
        keyword: "not",
        keywordLocation,
        error: 'Instance matched "not" schema.'
      });
    }
  }
  let subEvaluateds = [];
  if ($anyOf !== void 0) {
    const keywordLocation = `${schemaLocation}/anyOf`;
    const errorsLength = errors.length;
    let anyValid = false;
    for (const [i, subSchema] of $anyOf.entries()) {
      const subEvaluated = Object.create(evaluated);
      const result = validate(instance, subSchema, draft, lookup, shortCircuit, $recursiveAnchor === true ? recursiveAnchor : null, instanceLocation, `${keywordLocation}/${i}`, subEvaluated);
      errors.push(...result.errors);
      anyValid = anyValid || result.valid;
      if (result.valid) {
        subEvaluateds.push(subEvaluated);
      }
    }
    if (anyValid) {
      errors.length = errorsLength;
    } else {
      errors.splice(errorsLength, 0, {
        instanceLocation,
        keyword: "anyOf",
        keywordLocation,
        error: "Instance does not match any subschemas."
      });
    }
  }
  if ($allOf !== void 0) {
    const keywordLocation = `${schemaLocation}/allOf`;
    const errorsLength = errors.length;
    let allValid = true;
    for (const [i, subSchema] of $allOf.entries()) {
      const subEvaluated = Object.create(evaluated);
      const result = validate(instance, subSchema, draft, lookup, shortCircuit, $recursiveAnchor === true ? recursiveAnchor : null, instanceLocation, `${keywordLocation}/${i}`, subEvaluated);
      errors.push(...result.errors);
      allValid = allValid && result.valid;
      if (result.valid) {
        subEvaluateds.push(subEvaluated);
      }
    }
    if (allValid) {
      errors.length = errorsLength;
    } else {
      errors.splice(errorsLength, 0, {
        instanceLocation,
        keyword: "allOf",
        keywordLocation,
        error: `Instance does not match every subschema.`
      });
    }
  }
  if ($oneOf !== void 0) {
    const keywordLocation = `${schemaLocation}/oneOf`;
    const errorsLength = errors.length;
    const matches = $oneOf.filter((subSchema, i) => {
      const subEvaluated = Object.create(evaluated);
      const result = validate(instance, subSchema, draft, lookup, shortCircuit, $recursiveAnchor === true ? recursiveAnchor : null, instanceLocation, `${keywordLocation}/${i}`, subEvaluated);
      errors.push(...result.errors);
      if (result.valid) {
        subEvaluateds.push(subEvaluated);
      }
      return result.valid;
    }).length;
    if (matches === 1) {
      errors.length = errorsLength;
    } else {
      errors.splice(errorsLength, 0, {
        instanceLocation,
        keyword: "oneOf",
        keywordLocation,
        error: `Instance does not match exactly one subschema (${matches} matches).`
      });
    }
  }
  if (instanceType === "object" || instanceType === "array") {
    Object.assign(evaluated, ...subEvaluateds);
  }
  if ($if !== void 0) {
    const keywordLocation = `${schemaLocation}/if`;
    const ifEvaluated = /* @__PURE__ */ Object.create(null);
    const conditionResult = validate(instance, $if, draft, lookup, shortCircuit, recursiveAnchor, instanceLocation, keywordLocation, ifEvaluated).valid;
    if (conditionResult) {
      Object.assign(evaluated, ifEvaluated);
      if ($then !== void 0) {
        const thenResult = validate(instance, $then, draft, lookup, shortCircuit, recursiveAnchor, instanceLocation, `${schemaLocation}/then`, evaluated);
        if (!thenResult.valid) {
          errors.push({
            instanceLocation,
            keyword: "if",
            keywordLocation,
            error: `Instance does not match "then" schema.`
          }, ...thenResult.errors);
        }
      }
    } else if ($else !== void 0) {
      const elseResult = validate(instance, $else, draft, lookup, shortCircuit, recursiveAnchor, instanceLocation, `${schemaLocation}/else`, evaluated);
      if (!elseResult.valid) {
        errors.push({
          instanceLocation,
          keyword: "if",
          keywordLocation,
          error: `Instance does not match "else" schema.`
        }, ...elseResult.errors);
      }
    }
  }
  if (instanceType === "object") {
    if ($required !== void 0) {
      for (const key of $required) {
        if (!hasOwnProperty(instance, key)) {
          errors.push({
            instanceLocation,
            keyword: "required",
            keywordLocation: `${schemaLocation}/required`,
            error: `Instance does not have required property "${key}".`
          });
        }
      }
    }
    const keys = Object.keys(instance);
    if ($minProperties !== void 0 && keys.length < $minProperties) {
      errors.push({
        instanceLocation,
        keyword: "minProperties",
        keywordLocation: `${schemaLocation}/minProperties`,
        error: `Instance does not have at least ${$minProperties} properties.`
      });
    }
    if ($maxProperties !== void 0 && keys.length > $maxProperties) {
      errors.push({
        instanceLocation,
        keyword: "maxProperties",
        keywordLocation: `${schemaLocation}/maxProperties`,
        error: `Instance does not have at least ${$maxProperties} properties.`
      });
    }
    if ($propertyNames !== void 0) {
      const keywordLocation = `${schemaLocation}/propertyNames`;
      for (const key in instance) {
        const subInstancePointer = `${instanceLocation}/${encodePointer(key)}`;
        const result = validate(key, $propertyNames, draft, lookup, shortCircuit, recursiveAnchor, subInstancePointer, keywordLocation);
        if (!result.valid) {
          errors.push({
            instanceLocation,
            keyword: "propertyNames",
            keywordLocation,
            error: `Property name "${key}" does not match schema.`
          }, ...result.errors);
        }
      }
    }
    if ($dependentRequired !== void 0) {
      const keywordLocation = `${schemaLocation}/dependantRequired`;
      for (const key in $dependentRequired) {
        if (hasOwnProperty(instance, key)) {
          const required = $dependentRequired[key];
          for (const dependantKey of required) {
            if (!hasOwnProperty(instance, dependantKey)) {
              errors.push({
                instanceLocation,
                keyword: "dependentRequired",
                keywordLocation,
                error: `Instance has "${key}" but does not have "${dependantKey}".`
              });
            }
          }
        }
      }
    }
    if ($dependentSchemas !== void 0) {
      for (const [key, dependentSchema] of Object.entries($dependentSchemas)) {
        const keywordLocation = `${schemaLocation}/dependentSchemas`;
        if (hasOwnProperty(instance, key)) {
          const result = validate(instance, dependentSchema, draft, lookup, shortCircuit, recursiveAnchor, instanceLocation, `${keywordLocation}/${encodePointer(key)}`, evaluated);
          if (!result.valid) {
            errors.push({
              instanceLocation,
              keyword: "dependentSchemas",
              keywordLocation,
              error: `Instance has "${key}" but does not match dependant schema.`
            }, ...result.errors);
          }
        }
      }
    }
    if ($dependencies !== void 0) {
      const keywordLocation = `${schemaLocation}/dependencies`;
      for (const key in $dependencies) {
        if (hasOwnProperty(instance, key)) {
          const propsOrSchema = $dependencies[key];
          if (Array.isArray(propsOrSchema)) {
            for (const dependantKey of propsOrSchema) {
              if (!hasOwnProperty(instance, dependantKey)) {
                errors.push({
                  instanceLocation,
                  keyword: "dependencies",
                  keywordLocation,
                  error: `Instance has "${key}" but does not have "${dependantKey}".`
                });
              }
            }
          } else {
            const result = validate(instance, propsOrSchema, draft, lookup, shortCircuit, recursiveAnchor, instanceLocation, `${keywordLocation}/${encodePointer(key)}`);
            if (!result.valid) {
              errors.push({
                instanceLocation,
                keyword: "dependencies",
                keywordLocation,
                error: `Instance has "${key}" but does not match dependant schema.`
              }, ...result.errors);
            }
          }
        }
      }
    }
    const thisEvaluated = /* @__PURE__ */ Object.create(null);
    let stop = false;
    if ($properties !== void 0) {
      const keywordLocation = `${schemaLocation}/properties`;
      for (const [key, propertySchema] of Object.entries($properties)) {
        if (!hasOwnProperty(instance, key)) {
          continue;
        }
        const subInstancePointer = `${instanceLocation}/${encodePointer(key)}`;
        const result = validate(instance[key], propertySchema, draft, lookup, shortCircuit, recursiveAnchor, subInstancePointer, `${keywordLocation}/${encodePointer(key)}`);
        thisEvaluated[key] = true;
        if (result.valid) {
          evaluated[key] = true;
        } else {
          stop = shortCircuit;
          errors.push({
            instanceLocation,
            keyword: "properties",
            keywordLocation,
            error: `Property "${key}" does not match schema.`
          }, ...result.errors);
          if (stop)
            break;
        }
      }
    }
    if (!stop && $patternProperties !== void 0) {
      const keywordLocation = `${schemaLocation}/patternProperties`;
      for (const [pattern, subSchema] of Object.entries($patternProperties)) {
        const regex2 = new RegExp(pattern, "u");
        for (const key in instance) {
          if (!regex2.test(key)) {
            continue;
          }
          const subInstancePointer = `${instanceLocation}/${encodePointer(key)}`;
          const result = validate(instance[key], subSchema, draft, lookup, shortCircuit, recursiveAnchor, subInstancePointer, `${keywordLocation}/${encodePointer(pattern)}`);
          thisEvaluated[key] = true;
          if (result.valid) {
            evaluated[key] = true;
          } else {
            stop = shortCircuit;
            errors.push({
              instanceLocation,
              keyword: "patternProperties",
              keywordLocation,
              error: `Property "${key}" matches pattern "${pattern}" but does not match associated schema.`
            }, ...result.errors);
          }
        }
      }
    }
    if (!stop && $additionalProperties !== void 0) {
      const keywordLocation = `${schemaLocation}/additionalProperties`;
      for (const key in instance) {
        if (thisEvaluated[key]) {
          continue;
        }
        const subInstancePointer = `${instanceLocation}/${encodePointer(key)}`;
        const result = validate(instance[key], $additionalProperties, draft, lookup, shortCircuit, recursiveAnchor, subInstancePointer, keywordLocation);
        if (result.valid) {
          evaluated[key] = true;
        } else {
          stop = shortCircuit;
          errors.push({
            instanceLocation,
            keyword: "additionalProperties",
            keywordLocation,
            error: `Property "${key}" does not match additional properties schema.`
          }, ...result.errors);
        }
      }
    } else if (!stop && $unevaluatedProperties !== void 0) {
      const keywordLocation = `${schemaLocation}/unevaluatedProperties`;
      for (const key in instance) {
        if (!evaluated[key]) {
          const subInstancePointer = `${instanceLocation}/${encodePointer(key)}`;
          const result = validate(instance[key], $unevaluatedProperties, draft, lookup, shortCircuit, recursiveAnchor, subInstancePointer, keywordLocation);
          if (result.valid) {
            evaluated[key] = true;
          } else {
            errors.push({
              instanceLocation,
              keyword: "unevaluatedProperties",
              keywordLocation,
              error: `Property "${key}" does not match unevaluated properties schema.`
            }, ...result.errors);
          }
        }
      }
    }
  } else if (instanceType === "array") {
    if ($maxItems !== void 0 && instance.length > $maxItems) {
      errors.push({
        instanceLocation,
        keyword: "maxItems",
        keywordLocation: `${schemaLocation}/maxItems`,
        error: `Array has too many items (${instance.length} > ${$maxItems}).`
      });
    }
    if ($minItems !== void 0 && instance.length < $minItems) {
      errors.push({
        instanceLocation,
        keyword: "minItems",
        keywordLocation: `${schemaLocation}/minItems`,
        error: `Array has too few items (${instance.length} < ${$minItems}).`
      });
    }
    const length = instance.length;
    let i = 0;
    let stop = false;
    if ($prefixItems !== void 0) {
      const keywordLocation = `${schemaLocation}/prefixItems`;
      const length2 = Math.min($prefixItems.length, length);
      for (; i < length2; i++) {
        const result = validate(instance[i], $prefixItems[i], draft, lookup, shortCircuit, recursiveAnchor, `${instanceLocation}/${i}`, `${keywordLocation}/${i}`);
        evaluated[i] = true;
        if (!result.valid) {
          stop = shortCircuit;
          errors.push({
            instanceLocation,
            keyword: "prefixItems",
            keywordLocation,
            error: `Items did not match schema.`
          }, ...result.errors);
          if (stop)
            break;
        }
      }
    }
    if ($items !== void 0) {
      const keywordLocation = `${schemaLocation}/items`;
      if (Array.isArray($items)) {
        const length2 = Math.min($items.length, length);
        for (; i < length2; i++) {
          const result = validate(instance[i], $items[i], draft, lookup, shortCircuit, recursiveAnchor, `${instanceLocation}/${i}`, `${keywordLocation}/${i}`);
          evaluated[i] = true;
          if (!result.valid) {
            stop = shortCircuit;
            errors.push({
              instanceLocation,
              keyword: "items",
              keywordLocation,
              error: `Items did not match schema.`
            }, ...result.errors);
            if (stop)
              break;
          }
        }
      } else {
        for (; i < length; i++) {
          const result = validate(instance[i], $items, draft, lookup, shortCircuit, recursiveAnchor, `${instanceLocation}/${i}`, keywordLocation);
          evaluated[i] = true;
          if (!result.valid) {
            stop = shortCircuit;
            errors.push({
              instanceLocation,
              keyword: "items",
              keywordLocation,
              error: `Items did not match schema.`
            }, ...result.errors);
            if (stop)
              break;
          }
        }
      }
      if (!stop && $additionalItems !== void 0) {
        const keywordLocation2 = `${schemaLocation}/additionalItems`;
        for (; i < length; i++) {
          const result = validate(instance[i], $additionalItems, draft, lookup, shortCircuit, recursiveAnchor, `${instanceLocation}/${i}`, keywordLocation2);
          evaluated[i] = true;
          if (!result.valid) {
            stop = shortCircuit;
            errors.push({
              instanceLocation,
              keyword: "additionalItems",
              keywordLocation: keywordLocation2,
              error: `Items did not match additional items schema.`
            }, ...result.errors);
          }
        }
      }
    }
    if ($contains !== void 0) {
      if (length === 0 && $minContains === void 0) {
        errors.push({
          instanceLocation,
          keyword: "contains",
          keywordLocation: `${schemaLocation}/contains`,
          error: `Array is empty. It must contain at least one item matching the schema.`
        });
      } else if ($minContains !== void 0 && length < $minContains) {
        errors.push({
          instanceLocation,
          keyword: "minContains",
          keywordLocation: `${schemaLocation}/minContains`,
          error: `Array has less items (${length}) than minContains (${$minContains}).`
        });
      } else {
        const keywordLocation = `${schemaLocation}/contains`;
        const errorsLength = errors.length;
        let contained = 0;
        for (let j = 0; j < length; j++) {
          const result = validate(instance[j], $contains, draft, lookup, shortCircuit, recursiveAnchor, `${instanceLocation}/${j}`, keywordLocation);
          if (result.valid) {
            evaluated[j] = true;
            contained++;
          } else {
            errors.push(...result.errors);
          }
        }
        if (contained >= ($minContains || 0)) {
          errors.length = errorsLength;
        }
        if ($minContains === void 0 && contained === 0) {
          errors.splice(errorsLength, 0, {
            instanceLocation,
            keyword: "contains",
            keywordLocation,
            error: `Array does not contain item matching schema.`
          });
        } else if ($minContains !== void 0 && contained < $minContains) {
          errors.push({
            instanceLocation,
            keyword: "minContains",
            keywordLocation: `${schemaLocation}/minContains`,
            error: `Array must contain at least ${$minContains} items matching schema. Only ${contained} items were found.`
          });
        } else if ($maxContains !== void 0 && contained > $maxContains) {
          errors.push({
            instanceLocation,
            keyword: "maxContains",
            keywordLocation: `${schemaLocation}/maxContains`,
            error: `Array may contain at most ${$maxContains} items matching schema. ${contained} items were found.`
          });
        }
      }
    }
    if (!stop && $unevaluatedItems !== void 0) {
      const keywordLocation = `${schemaLocation}/unevaluatedItems`;
      for (i; i < length; i++) {
        if (evaluated[i]) {
          continue;
        }
        const result = validate(instance[i], $unevaluatedItems, draft, lookup, shortCircuit, recursiveAnchor, `${instanceLocation}/${i}`, keywordLocation);
        evaluated[i] = true;
        if (!result.valid) {
          errors.push({
            instanceLocation,
            keyword: "unevaluatedItems",
            keywordLocation,
            error: `Items did not match unevaluated items schema.`
          }, ...result.errors);
        }
      }
    }
    if ($uniqueItems) {
      for (let j = 0; j < length; j++) {
        const a = instance[j];
        const ao = typeof a === "object" && a !== null;
        for (let k = 0; k < length; k++) {
          if (j === k) {
            continue;
          }
          const b = instance[k];
          const bo = typeof b === "object" && b !== null;
          if (a === b || ao && bo && deepCompareStrict(a, b)) {
            errors.push({
              instanceLocation,
              keyword: "uniqueItems",
              keywordLocation: `${schemaLocation}/uniqueItems`,
              error: `Duplicate items at indexes ${j} and ${k}.`
            });
            j = Number.MAX_SAFE_INTEGER;
            k = Number.MAX_SAFE_INTEGER;
          }
        }
      }
    }
  } else if (instanceType === "number") {
    if (draft === "4") {
      if ($minimum !== void 0 && ($exclusiveMinimum === true && instance <= $minimum || instance < $minimum)) {
        errors.push({
          instanceLocation,
          keyword: "minimum",
          keywordLocation: `${schemaLocation}/minimum`,
          error: `${instance} is less than ${$exclusiveMinimum ? "or equal to " : ""} ${$minimum}.`
        });
      }
      if ($maximum !== void 0 && ($exclusiveMaximum === true && instance >= $maximum || instance > $maximum)) {
        errors.push({
          instanceLocation,
          keyword: "maximum",
          keywordLocation: `${schemaLocation}/maximum`,
          error: `${instance} is greater than ${$exclusiveMaximum ? "or equal to " : ""} ${$maximum}.`
        });
      }
    } else {
      if ($minimum !== void 0 && instance < $minimum) {
        errors.push({
          instanceLocation,
          keyword: "minimum",
          keywordLocation: `${schemaLocation}/minimum`,
          error: `${instance} is less than ${$minimum}.`
        });
      }
      if ($maximum !== void 0 && instance > $maximum) {
        errors.push({
          instanceLocation,
          keyword: "maximum",
          keywordLocation: `${schemaLocation}/maximum`,
          error: `${instance} is greater than ${$maximum}.`
        });
      }
      if ($exclusiveMinimum !== void 0 && instance <= $exclusiveMinimum) {
        errors.push({
          instanceLocation,
          keyword: "exclusiveMinimum",
          keywordLocation: `${schemaLocation}/exclusiveMinimum`,
          error: `${instance} is less than ${$exclusiveMinimum}.`
        });
      }
      if ($exclusiveMaximum !== void 0 && instance >= $exclusiveMaximum) {
        errors.push({
          instanceLocation,
          keyword: "exclusiveMaximum",
          keywordLocation: `${schemaLocation}/exclusiveMaximum`,
          error: `${instance} is greater than or equal to ${$exclusiveMaximum}.`
        });
      }
    }
    if ($multipleOf !== void 0) {
      if (!isMultipleOf(instance, $multipleOf)) {
        errors.push({
          instanceLocation,
          keyword: "multipleOf",
          keywordLocation: `${schemaLocation}/multipleOf`,
          error: `${instance} is not a multiple of ${$multipleOf}.`
        });
      }
    }
  } else if (instanceType === "string") {
    const length = $minLength === void 0 && $maxLength === void 0 ? 0 : ucs2length(instance);
    if ($minLength !== void 0 && length < $minLength) {
      errors.push({
        instanceLocation,
        keyword: "minLength",
        keywordLocation: `${schemaLocation}/minLength`,
        error: `String is too short (${length} < ${$minLength}).`
      });
    }
    if ($maxLength !== void 0 && length > $maxLength) {
      errors.push({
        instanceLocation,
        keyword: "maxLength",
        keywordLocation: `${schemaLocation}/maxLength`,
        error: `String is too long (${length} > ${$maxLength}).`
      });
    }
    if ($pattern !== void 0 && !new RegExp($pattern, "u").test(instance)) {
      errors.push({
        instanceLocation,
        keyword: "pattern",
        keywordLocation: `${schemaLocation}/pattern`,
        error: `String does not match pattern.`
      });
    }
    if ($format !== void 0 && format[$format] && !format[$format](instance)) {
      errors.push({
        instanceLocation,
        keyword: "format",
        keywordLocation: `${schemaLocation}/format`,
        error: `String does not match format "${$format}".`
      });
    }
  }
  return { valid: errors.length === 0, errors };
}

// node_modules/@cfworker/json-schema/dist/esm/validator.js
var Validator = class {
  schema;
  draft;
  shortCircuit;
  lookup;
  constructor(schema, draft = "2019-09", shortCircuit = true) {
    this.schema = schema;
    this.draft = draft;
    this.shortCircuit = shortCircuit;
    this.lookup = dereference(schema);
  }
  validate(instance) {
    return validate(instance, this.schema, this.draft, this.lookup, this.shortCircuit);
  }
  addSchema(schema, id2) {
    if (id2) {
      schema = { ...schema, $id: id2 };
    }
    dereference(schema, this.lookup);
  }
};

// node_modules/@bytecodealliance/preview2-shim/dist/browser/common.js
var MAX_U64 = (1n << 64n) - 1n;
function checkedU64(value, name) {
  if (typeof value !== "bigint" || value < 0n || value > MAX_U64) {
    throw new TypeError(`${name} must be a valid u64`);
  }
  return value;
}
function checkedU64AsNumber(value, name) {
  checkedU64(value, name);
  if (value > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new RangeError(`${name} exceeds JavaScript's safe integer range`);
  }
  return Number(value);
}

// node_modules/@bytecodealliance/preview2-shim/dist/browser/io.js
var id = 0;
var symbolDispose = Symbol.dispose || /* @__PURE__ */ Symbol.for("dispose");
var checkedLength = (len, name = "length") => checkedU64AsNumber(len, name);
function closed() {
  throw { tag: "closed" };
}
var IoError = class extends Error {
  toDebugString() {
    return this.message;
  }
};
var InputStream = class _InputStream {
  id;
  handler;
  #open = true;
  #children = /* @__PURE__ */ new Set();
  static _create(handler) {
    const stream = new _InputStream();
    if (!handler) {
      console.trace("no handler");
    }
    stream.id = ++id;
    stream.handler = handler;
    return stream;
  }
  read(len) {
    checkedLength(len);
    if (!this.#open) {
      closed();
    }
    if (this.handler.read) {
      return this.handler.read.call(this, len);
    }
    return this.handler.blockingRead.call(this, len);
  }
  blockingRead(len) {
    checkedLength(len);
    if (!this.#open) {
      closed();
    }
    return this.handler.blockingRead.call(this, len);
  }
  skip(len) {
    checkedLength(len);
    if (!this.#open) {
      closed();
    }
    if (this.handler.skip) {
      return this.handler.skip.call(this, len);
    }
    if (this.handler.read) {
      const bytes = this.handler.read.call(this, len);
      return BigInt(bytes.byteLength);
    }
    return this.blockingSkip.call(this, len);
  }
  blockingSkip(len) {
    checkedLength(len);
    if (!this.#open) {
      closed();
    }
    if (this.handler.blockingSkip) {
      return this.handler.blockingSkip.call(this, len);
    }
    const bytes = this.handler.blockingRead.call(this, len);
    return BigInt(bytes.byteLength);
  }
  subscribe() {
    if (!this.#open) {
      return pollableCreate();
    }
    const pollable = this.handler.subscribe ? this.handler.subscribe.call(this) : pollableCreate();
    if (pollable instanceof Pollable) {
      this.#children.add(pollable);
      pollable._onDispose(() => this.#children.delete(pollable));
    }
    return pollable;
  }
  [symbolDispose]() {
    if (!this.#open) {
      return;
    }
    this.#open = false;
    for (const child of this.#children) {
      child._invalidate();
    }
    this.#children.clear();
    if (this.handler.drop) {
      this.handler.drop.call(this);
    }
  }
};
var inputStreamCreate = InputStream._create;
delete InputStream._create;
var OutputStream = class _OutputStream {
  id;
  open;
  handler;
  #permit = 0n;
  #children = /* @__PURE__ */ new Set();
  static _create(handler) {
    const stream = new _OutputStream();
    if (!handler) {
      console.trace("no handler");
    }
    stream.id = ++id;
    stream.open = true;
    stream.handler = handler;
    return stream;
  }
  checkWrite() {
    if (!this.open) {
      closed();
    }
    if (this.handler.checkWrite) {
      const permit = this.handler.checkWrite.call(this);
      checkedLength(permit, "write permit");
      this.#permit = permit;
      return permit;
    }
    this.#permit = 1000000n;
    return this.#permit;
  }
  write(buf) {
    if (!this.open) {
      closed();
    }
    if (BigInt(buf.byteLength) > this.#permit) {
      throw new Error("write exceeds the permit returned by checkWrite");
    }
    this.#permit -= BigInt(buf.byteLength);
    this.handler.write.call(this, buf);
  }
  blockingWriteAndFlush(buf) {
    if (!this.open) {
      closed();
    }
    if (buf.byteLength > 4096) {
      throw new RangeError("blockingWriteAndFlush accepts at most 4096 bytes");
    }
    if (this.handler.blockingWriteAndFlush) {
      return this.handler.blockingWriteAndFlush.call(this, buf);
    }
    this.handler.write.call(this, buf);
    if (this.handler.blockingFlush) {
      this.handler.blockingFlush.call(this);
    } else {
      this.handler.flush?.call(this);
    }
  }
  flush() {
    if (!this.open) {
      closed();
    }
    this.#permit = 0n;
    if (this.handler.flush) {
      this.handler.flush.call(this);
    }
  }
  blockingFlush() {
    if (!this.open) {
      closed();
    }
    if (this.handler.blockingFlush) {
      this.handler.blockingFlush.call(this);
    } else {
      this.handler.flush?.call(this);
    }
  }
  writeZeroes(len) {
    const length = checkedLength(len);
    if (len > this.#permit) {
      throw new Error("write exceeds the permit returned by checkWrite");
    }
    this.write.call(this, new Uint8Array(length));
  }
  blockingWriteZeroesAndFlush(len) {
    const length = checkedLength(len);
    if (length > 4096) {
      throw new RangeError("blockingWriteZeroesAndFlush accepts at most 4096 bytes");
    }
    this.blockingWriteAndFlush.call(this, new Uint8Array(length));
  }
  splice(src, len) {
    const spliceLen = Math.min(checkedLength(len), Number(this.checkWrite.call(this)));
    const bytes = src.read(BigInt(spliceLen));
    this.write.call(this, bytes);
    return BigInt(bytes.byteLength);
  }
  blockingSplice(src, len) {
    const spliceLen = Math.min(checkedLength(len), Number(this.checkWrite.call(this)));
    const bytes = src.blockingRead(BigInt(spliceLen));
    this.write.call(this, bytes);
    return BigInt(bytes.byteLength);
  }
  subscribe() {
    if (!this.open) {
      return pollableCreate();
    }
    const pollable = this.handler.subscribe ? this.handler.subscribe.call(this) : pollableCreate();
    if (pollable instanceof Pollable) {
      this.#children.add(pollable);
      pollable._onDispose(() => this.#children.delete(pollable));
    }
    return pollable;
  }
  [symbolDispose]() {
    if (!this.open) {
      return;
    }
    this.open = false;
    this.#permit = 0n;
    for (const child of this.#children) {
      child._invalidate();
    }
    this.#children.clear();
    this.handler.drop?.call(this);
  }
};
var outputStreamCreate = OutputStream._create;
delete OutputStream._create;
var error = {
  Error: IoError
};
var streams = { InputStream, OutputStream };
var Pollable = class _Pollable {
  #source = { ready: () => true, wait: () => Promise.resolve() };
  #invalid = false;
  #disposed = false;
  #wait = null;
  #disposeCallbacks = [];
  #wakeUnusable;
  #unusable = new Promise((resolve) => this.#wakeUnusable = resolve);
  static _create(source) {
    const pollable = new _Pollable();
    if (source instanceof Promise) {
      let ready = false;
      const wait = source.then(() => {
        ready = true;
      }, () => {
        ready = true;
      });
      pollable.#source = { ready: () => ready, wait: () => wait };
    } else if (source) {
      pollable.#source = source;
    }
    return pollable;
  }
  ready() {
    this.#assertUsable();
    return this.#source.ready();
  }
  block() {
    this.#assertUsable();
    if (this.#source.ready()) {
      return Promise.resolve();
    }
    if (!this.#wait) {
      this.#wait = Promise.race([
        Promise.resolve(this.#source.wait()),
        this.#unusable.then(() => this.#assertUsable())
      ]).finally(() => {
        this.#wait = null;
      });
    }
    return this.#wait;
  }
  _onDispose(callback) {
    if (this.#disposed) {
      callback();
    } else {
      this.#disposeCallbacks.push(callback);
    }
  }
  _invalidate() {
    if (this.#invalid || this.#disposed) {
      return;
    }
    this.#invalid = true;
    this.#wakeUnusable();
  }
  #assertUsable() {
    if (this.#disposed) {
      throw new Error("pollable has been disposed");
    }
    if (this.#invalid) {
      throw new Error("pollable's parent resource has been disposed");
    }
  }
  [symbolDispose]() {
    if (this.#disposed) {
      return;
    }
    this.#disposed = true;
    this.#wakeUnusable();
    for (const callback of this.#disposeCallbacks.splice(0)) {
      callback();
    }
  }
};
var pollableCreate = Pollable._create;
delete Pollable._create;
function pollList(list) {
  if (list.length === 0) {
    throw new Error("poll list must not be empty");
  }
  if (list.length > 4294967295) {
    throw new Error("poll list length exceeds u32 index range");
  }
  const ready = [];
  for (let i = 0; i < list.length; i++) {
    if (list[i].ready()) {
      ready.push(i);
    }
  }
  if (ready.length > 0) {
    return new Promise((resolve) => setTimeout(() => {
      const result = [];
      for (let i = 0; i < list.length; i++) {
        if (list[i].ready()) {
          result.push(i);
        }
      }
      resolve(new Uint32Array(result));
    }, 0));
  }
  return Promise.race(list.map((pollable) => pollable.block())).then(() => {
    const result = [];
    for (let i = 0; i < list.length; i++) {
      if (list[i].ready()) {
        result.push(i);
      }
    }
    return new Uint32Array(result);
  });
}
function pollOne(poll2) {
  return poll2.block();
}
var poll = {
  Pollable,
  pollList,
  pollOne,
  // @ts-expect-error Not matching signature from WIT
  poll: pollList
};

// node_modules/@bytecodealliance/preview2-shim/dist/browser/config.js
var _cwd = "/";
function _getCwd() {
  return _cwd;
}

// node_modules/@bytecodealliance/preview2-shim/dist/browser/environment.js
var _env = [];
var _args = [];
var _cwd2 = "/";
var environment = {
  getEnvironment() {
    return _env;
  },
  getArguments() {
    return _args;
  },
  initialCwd() {
    return _cwd2;
  }
};

// node_modules/@bytecodealliance/preview2-shim/dist/browser/cli.js
var symbolDispose2 = Symbol.dispose ?? /* @__PURE__ */ Symbol.for("dispose");
var ComponentExit = class extends Error {
  exitError = true;
  code;
  constructor(code) {
    super(`Component exited ${code === 0 ? "successfully" : "with error"}`);
    this.code = code;
  }
};
var exit = {
  exit(status) {
    throw new ComponentExit(status.tag === "err" ? 1 : 0);
  },
  // @ts-expect-error - Available only wasi-cli v0.2.12
  exitWithCode(code) {
    throw new ComponentExit(code);
  }
};
var stdinStream = inputStreamCreate({
  blockingRead() {
    throw { tag: "closed" };
  },
  subscribe() {
    return pollableCreate();
  },
  [symbolDispose2]() {
  }
});
function consoleStream(writeLine) {
  const decoder = new TextDecoder();
  let pending = "";
  const emitCompleteLines = () => {
    const lines = pending.split("\n");
    pending = lines.pop();
    for (const line of lines) {
      writeLine(line.endsWith("\r") ? line.slice(0, -1) : line);
    }
  };
  return {
    write(contents) {
      pending += decoder.decode(contents, { stream: true });
      emitCompleteLines();
    },
    flush() {
      pending += decoder.decode();
      if (pending) {
        writeLine(pending);
      }
      pending = "";
    },
    blockingFlush() {
      this.flush?.();
    },
    drop() {
      this.flush?.();
    }
  };
}
var stdoutStream = outputStreamCreate(consoleStream((line) => console.log(line)));
var stderrStream = outputStreamCreate(consoleStream((line) => console.error(line)));
var stdin = {
  getStdin() {
    return stdinStream;
  }
};
var stdout = {
  getStdout() {
    return stdoutStream;
  }
};
var stderr = {
  getStderr() {
    return stderrStream;
  }
};
var TerminalInput = class {
};
var TerminalOutput = class {
};
var terminalInput = {
  TerminalInput
};
var terminalOutput = {
  TerminalOutput
};
var terminalStderr = {
  getTerminalStderr() {
    return void 0;
  }
};
var terminalStdin = {
  getTerminalStdin() {
    return void 0;
  }
};
var terminalStdout = {
  getTerminalStdout() {
    return void 0;
  }
};

// node_modules/@bytecodealliance/preview2-shim/dist/browser/clocks.js
var MAX_TIMEOUT_MS = 2147483647;
function timeout(durationNs) {
  let remainingMs = Number((durationNs + 999999n) / 1000000n);
  return new Promise((resolve) => {
    const next = () => {
      if (remainingMs <= 0) {
        resolve();
        return;
      }
      const delay = Math.min(remainingMs, MAX_TIMEOUT_MS);
      remainingMs -= delay;
      setTimeout(next, delay);
    };
    next();
  });
}
var monotonicClock = {
  resolution() {
    return BigInt(1e6);
  },
  now() {
    return BigInt(Math.floor(performance.now() * 1e6));
  },
  subscribeInstant(instant) {
    instant = checkedU64(instant, "instant");
    const now = monotonicClock.now();
    if (instant <= now) {
      return pollableCreate();
    }
    return monotonicClock.subscribeDuration(instant - now);
  },
  subscribeDuration(duration) {
    duration = checkedU64(duration, "duration");
    if (duration === 0n) {
      return pollableCreate();
    }
    return pollableCreate(timeout(duration));
  }
};
var wallClock = {
  now() {
    let now = Date.now();
    const seconds = BigInt(Math.floor(now / 1e3));
    const nanoseconds = now % 1e3 * 1e6;
    return { seconds, nanoseconds };
  },
  resolution() {
    return { seconds: 0n, nanoseconds: 1e6 };
  }
};

// node_modules/@bytecodealliance/preview2-shim/dist/browser/in-memory-filesystem.js
var rootEntries = /* @__PURE__ */ new WeakSet();
var timeZero = {
  seconds: 0n,
  nanoseconds: 0
};
function coerceToSafeIntegerNumber(obj) {
  let n;
  if (typeof obj === "number") {
    n = obj;
  } else if (typeof obj == "bigint") {
    n = Number(obj);
  } else {
    throw new TypeError(`unexpected non-numeric type: ${obj}`);
  }
  if (n > Number.MAX_SAFE_INTEGER) {
    throw new TypeError(`excessively large number: ${n}`);
  }
  return n;
}
var MAX_SYMLINK_DEPTH = 40;
function resolveEntry(root, path, followFinal, allowMissingFinal = false) {
  const directories = [root];
  const pending = path.split("/").reverse();
  let followed = 0;
  while (pending.length) {
    const parent = directories[directories.length - 1];
    if (!parent.dir) {
      throw "not-directory";
    }
    const name = pending.pop();
    if (name === "" || name === ".") {
      continue;
    }
    if (name === "..") {
      if (directories.length === 1) {
        throw "not-permitted";
      }
      directories.pop();
      continue;
    }
    const entry2 = parent.dir[name];
    const isFinal = pending.length === 0;
    if (!entry2) {
      if (isFinal && allowMissingFinal) {
        return { entry: void 0, parent, name };
      }
      throw "no-entry";
    }
    if (entry2.symlink !== void 0 && (!isFinal || followFinal)) {
      if (++followed > MAX_SYMLINK_DEPTH) {
        throw "loop";
      }
      if (entry2.symlink.startsWith("/")) {
        throw "not-permitted";
      }
      for (const segment of entry2.symlink.split("/").reverse()) {
        pending.push(segment);
      }
      continue;
    }
    if (isFinal) {
      return { entry: entry2, parent, name };
    }
    directories.push(entry2);
  }
  const entry = directories[directories.length - 1];
  return { entry, parent: entry, name: "" };
}
function lookupPath(root, path) {
  if (path === "." && rootEntries.has(root)) {
    return _getCwd();
  }
  return path;
}
function getChildEntry(parentEntry, subpath, followFinal) {
  return resolveEntry(parentEntry, lookupPath(parentEntry, subpath), !!followFinal).entry;
}
function getParentEntry(root, path) {
  const segments = path.split("/").filter((segment) => segment !== "" && segment !== ".");
  const name = segments.pop();
  if (!name || name === "..") {
    throw "invalid";
  }
  const parent = resolveEntry(root, segments.join("/"), true).entry;
  if (!parent.dir) {
    throw "not-directory";
  }
  return [parent, name];
}
function getSource(fileEntry) {
  if (typeof fileEntry.source === "string") {
    fileEntry.source = new TextEncoder().encode(fileEntry.source);
  }
  return fileEntry.source;
}
function describeEntry(entry) {
  if (entry.symlink !== void 0) {
    return {
      type: "symbolic-link",
      size: BigInt(new TextEncoder().encode(entry.symlink).byteLength)
    };
  }
  if (entry.dir) {
    return { type: "directory", size: 0n };
  }
  return { type: "regular-file", size: BigInt(getSource(entry).byteLength) };
}
function containsEntry(root, target) {
  if (root === target) {
    return true;
  }
  return root.dir ? Object.values(root.dir).some((entry) => containsEntry(entry, target)) : false;
}
var fileWriteBuffers = /* @__PURE__ */ new WeakMap();
var nextEntryId = 0n;
var entryMetadata = /* @__PURE__ */ new WeakMap();
function metadata(entry) {
  let value = entryMetadata.get(entry);
  if (!value) {
    value = { id: ++nextEntryId, version: 0n, linkCount: 1n };
    entryMetadata.set(entry, value);
  }
  return value;
}
var fileLocks = /* @__PURE__ */ new WeakMap();
function lockState(entry) {
  let state = fileLocks.get(entry);
  if (!state) {
    state = { exclusiveHolder: null, sharedHolders: /* @__PURE__ */ new Set() };
    fileLocks.set(entry, state);
  }
  return state;
}
var touchListeners = /* @__PURE__ */ new Set();
function touch(entry) {
  metadata(entry).version++;
  for (const listener of touchListeners) {
    listener(entry);
  }
}
function getFileWriteBuffer(entry, source, requiredLength) {
  let buffer = fileWriteBuffers.get(entry);
  if (!buffer || buffer.buffer !== source.buffer || buffer.byteOffset !== source.byteOffset) {
    buffer = source;
  }
  if (requiredLength <= buffer.byteLength) {
    return buffer;
  }
  const newBuffer = new Uint8Array(Math.max(requiredLength, source.byteLength * 2));
  newBuffer.set(source);
  fileWriteBuffers.set(entry, newBuffer);
  return newBuffer;
}
var DirectoryEntryStream = class _DirectoryEntryStream {
  idx = 0;
  entries = [];
  static _create(entries) {
    const stream = new _DirectoryEntryStream();
    stream.entries = entries;
    return stream;
  }
  readDirectoryEntry() {
    if (this.idx === this.entries.length) {
      return void 0;
    }
    const [name, entry] = this.entries[this.idx];
    this.idx += 1;
    return {
      name,
      type: describeEntry(entry).type
    };
  }
};
var descriptorEntryStreamCreate = DirectoryEntryStream._create;
delete DirectoryEntryStream._create;
var Descriptor = class _Descriptor {
  #stream;
  #entry;
  #flags = {
    read: true,
    write: true,
    mutateDirectory: true
  };
  #advice = "normal";
  _getEntry(descriptor) {
    return descriptor.#entry;
  }
  static _create(entry, isStream) {
    const descriptor = new _Descriptor();
    if (isStream) {
      descriptor.#stream = entry;
    } else {
      descriptor.#entry = entry;
    }
    return descriptor;
  }
  readViaStream(_offset) {
    const source = getSource(this.#entry);
    let offset = Number(_offset);
    return inputStreamCreate({
      blockingRead(len) {
        if (offset === source.byteLength) {
          throw { tag: "closed" };
        }
        const bytes = source.slice(offset, offset + Number(len));
        offset += bytes.byteLength;
        return bytes;
      }
    });
  }
  writeViaStream(_offset) {
    const entry = this.#entry;
    let offset = coerceToSafeIntegerNumber(_offset);
    return outputStreamCreate({
      write(buf) {
        if (buf.byteLength === 0) {
          return;
        }
        const source = getSource(entry);
        const end = offset + buf.byteLength;
        if (!Number.isSafeInteger(end)) {
          throw new TypeError(`excessively large number: ${end}`);
        }
        const buffer = getFileWriteBuffer(entry, source, end);
        if (offset > source.byteLength) {
          buffer.fill(0, source.byteLength, offset);
        }
        buffer.set(buf, offset);
        entry.source = buffer.subarray(0, Math.max(source.byteLength, end));
        offset = end;
        touch(entry);
      }
    });
  }
  appendViaStream() {
    return this.writeViaStream(this.stat().size);
  }
  advise(_offset, _length, advice) {
    if (this.getType() === "directory") {
      throw "bad-descriptor";
    }
    this.#advice = advice;
  }
  syncData() {
  }
  getFlags() {
    return { ...this.#flags };
  }
  getType() {
    if (this.#stream) {
      return "fifo";
    }
    if (this.#entry.symlink !== void 0) {
      return "symbolic-link";
    }
    if (this.#entry.dir) {
      return "directory";
    }
    if (this.#entry.source) {
      return "regular-file";
    }
    return "unknown";
  }
  setSize(size) {
    if (this.getType() === "directory") {
      throw "is-directory";
    }
    const length = coerceToSafeIntegerNumber(size);
    const source = getSource(this.#entry);
    const resized = new Uint8Array(length);
    resized.set(source.subarray(0, length));
    this.#entry.source = resized;
    touch(this.#entry);
  }
  setTimes(dataAccessTimestamp, dataModificationTimestamp) {
    if (dataAccessTimestamp?.tag !== "no-change" || dataModificationTimestamp?.tag !== "no-change") {
      touch(this.#entry);
    }
  }
  read(length, offset) {
    const source = getSource(this.#entry);
    const off = coerceToSafeIntegerNumber(offset);
    const len = coerceToSafeIntegerNumber(length);
    const result = [
      source.slice(off, off + len),
      off + len >= source.byteLength
    ];
    return result;
  }
  write(buffer, offset) {
    if (this.getType() === "directory") {
      throw "is-directory";
    }
    const off = coerceToSafeIntegerNumber(offset);
    const source = getSource(this.#entry);
    const end = off + buffer.byteLength;
    if (!Number.isSafeInteger(end)) {
      throw "file-too-large";
    }
    const target = new Uint8Array(Math.max(source.byteLength, end));
    target.set(source);
    target.set(buffer, off);
    this.#entry.source = target;
    touch(this.#entry);
    return BigInt(buffer.byteLength);
  }
  readDirectory() {
    if (!this.#entry?.dir) {
      throw "bad-descriptor";
    }
    return descriptorEntryStreamCreate(Object.entries(this.#entry.dir).sort(([a], [b]) => a > b ? 1 : -1));
  }
  sync() {
  }
  createDirectoryAt(path) {
    try {
      getChildEntry(this.#entry, path, false);
      throw "exist";
    } catch (error2) {
      if (error2 !== "no-entry") {
        throw error2;
      }
    }
    const [parent, name] = getParentEntry(this.#entry, path);
    parent.dir[name] = { dir: {} };
    touch(parent);
  }
  stat() {
    const { type, size } = describeEntry(this.#entry);
    return {
      type,
      linkCount: metadata(this.#entry).linkCount,
      size,
      dataAccessTimestamp: timeZero,
      dataModificationTimestamp: timeZero,
      statusChangeTimestamp: timeZero
    };
  }
  statAt(pathFlags, path) {
    const entry = getChildEntry(this.#entry, path, pathFlags.symlinkFollow);
    const { type, size } = describeEntry(entry);
    return {
      type,
      linkCount: metadata(entry).linkCount,
      size,
      dataAccessTimestamp: timeZero,
      dataModificationTimestamp: timeZero,
      statusChangeTimestamp: timeZero
    };
  }
  setTimesAt(pathFlags, path, _atime, mtime) {
    const entry = getChildEntry(this.#entry, path, pathFlags.symlinkFollow);
    if (mtime?.tag !== "no-change") {
      fileWriteBuffers.delete(entry);
      touch(entry);
    }
  }
  linkAt(oldPathFlags, oldPath, newDescriptor, newPath) {
    const entry = getChildEntry(this.#entry, oldPath, oldPathFlags.symlinkFollow);
    if (entry.dir) {
      throw "not-permitted";
    }
    const [newParent, newName] = getParentEntry(descriptorGetEntry(unwrapDescriptor(newDescriptor)), newPath);
    if (newParent.dir[newName]) {
      throw "exist";
    }
    newParent.dir[newName] = entry;
    metadata(entry).linkCount++;
    touch(newParent);
  }
  openAt(pathFlags, path, openFlags, _flags) {
    const exclusiveCreate = !!(openFlags.create && openFlags.exclusive);
    const resolved = resolveEntry(this.#entry, lookupPath(this.#entry, path), !!pathFlags.symlinkFollow && !exclusiveCreate, !!openFlags.create);
    let childEntry = resolved.entry;
    if (childEntry && exclusiveCreate) {
      throw "exist";
    }
    if (!childEntry) {
      const { parent, name } = resolved;
      childEntry = parent.dir[name] = openFlags.directory ? { dir: {} } : { source: new Uint8Array() };
      touch(parent);
    }
    if (childEntry.symlink !== void 0) {
      throw "loop";
    }
    if (openFlags.directory && !childEntry.dir) {
      throw "not-directory";
    }
    if (openFlags.truncate) {
      if (childEntry.dir) {
        throw "is-directory";
      }
      childEntry.source = new Uint8Array();
      touch(childEntry);
    }
    return descriptorCreate(childEntry);
  }
  readlinkAt(path) {
    const entry = getChildEntry(this.#entry, path, false);
    if (entry.symlink === void 0) {
      throw "invalid";
    }
    if (entry.symlink.startsWith("/")) {
      throw "not-permitted";
    }
    return entry.symlink;
  }
  removeDirectoryAt(path) {
    const [parent, name] = getParentEntry(this.#entry, path);
    const entry = parent.dir?.[name];
    if (!entry) {
      throw "no-entry";
    }
    if (!entry.dir) {
      throw "not-directory";
    }
    if (Object.keys(entry.dir).length) {
      throw "not-empty";
    }
    delete parent.dir[name];
    metadata(entry).linkCount--;
    touch(parent);
  }
  renameAt(oldPath, newDescriptor, newPath) {
    const [oldParent, oldName] = getParentEntry(this.#entry, oldPath);
    const entry = oldParent.dir?.[oldName];
    if (!entry) {
      throw "no-entry";
    }
    const [newParent, newName] = getParentEntry(descriptorGetEntry(unwrapDescriptor(newDescriptor)), newPath);
    const replaced = newParent.dir[newName];
    if (oldParent === newParent && oldName === newName || replaced === entry) {
      return;
    }
    if (entry.dir && containsEntry(entry, newParent)) {
      throw "invalid";
    }
    if (replaced) {
      if (entry.dir && !replaced.dir) {
        throw "not-directory";
      }
      if (!entry.dir && replaced.dir) {
        throw "is-directory";
      }
      if (replaced.dir && Object.keys(replaced.dir).length > 0) {
        throw "not-empty";
      }
      metadata(replaced).linkCount--;
    }
    newParent.dir[newName] = entry;
    delete oldParent.dir[oldName];
    touch(oldParent);
    if (newParent !== oldParent) {
      touch(newParent);
    }
  }
  symlinkAt(oldPath, newPath) {
    if (oldPath.startsWith("/")) {
      throw "not-permitted";
    }
    const [parent, name] = getParentEntry(this.#entry, newPath);
    if (parent.dir[name]) {
      throw "exist";
    }
    parent.dir[name] = { symlink: oldPath };
    touch(parent);
  }
  unlinkFileAt(path) {
    const [parent, name] = getParentEntry(this.#entry, path);
    const entry = parent.dir?.[name];
    if (!entry) {
      throw "no-entry";
    }
    if (entry.dir) {
      throw "is-directory";
    }
    delete parent.dir[name];
    metadata(entry).linkCount--;
    touch(parent);
  }
  isSameObject(other) {
    return descriptorGetEntry(unwrapDescriptor(other)) === this.#entry;
  }
  metadataHash() {
    const value = metadata(this.#entry);
    return { upper: value.id, lower: value.version };
  }
  metadataHashAt(pathFlags, path) {
    const value = metadata(getChildEntry(this.#entry, path, pathFlags.symlinkFollow));
    return { upper: value.id, lower: value.version };
  }
  /**
   * Default advisory-locking implementation: a same-process reader/writer lock
   * keyed on the underlying entry. There's no real contention to wait out in a
   * single-threaded environment, so `lockShared`/`lockExclusive` don't block -
   * they throw `would-block` immediately when the lock isn't free, same as the
   * `tryLock*` variants report `false`.
   */
  tryLockShared() {
    const state = lockState(this.#entry);
    if (state.exclusiveHolder && state.exclusiveHolder !== this) {
      return false;
    }
    state.sharedHolders.add(this);
    return true;
  }
  tryLockExclusive() {
    const state = lockState(this.#entry);
    if (state.exclusiveHolder && state.exclusiveHolder !== this) {
      return false;
    }
    const otherReaders = state.sharedHolders.size - (state.sharedHolders.has(this) ? 1 : 0);
    if (otherReaders > 0) {
      return false;
    }
    state.sharedHolders.delete(this);
    state.exclusiveHolder = this;
    return true;
  }
  lockShared() {
    if (!this.tryLockShared()) {
      throw "would-block";
    }
  }
  lockExclusive() {
    if (!this.tryLockExclusive()) {
      throw "would-block";
    }
  }
  unlock() {
    const state = fileLocks.get(this.#entry);
    if (!state) {
      return;
    }
    state.sharedHolders.delete(this);
    if (state.exclusiveHolder === this) {
      state.exclusiveHolder = null;
    }
  }
};
var descriptorGetEntry = Descriptor.prototype._getEntry;
delete Descriptor.prototype._getEntry;
var descriptorCreate = Descriptor._create;
delete Descriptor._create;
var UNWRAP_DESCRIPTOR = /* @__PURE__ */ Symbol("browserFilesystemDescriptor.unwrap");
function unwrapDescriptor(descriptor) {
  let current = descriptor;
  for (; ; ) {
    const inner = current[UNWRAP_DESCRIPTOR];
    if (!inner || inner === current) {
      return current;
    }
    current = inner;
  }
}
var InMemoryFilesystemAdapter = class {
  getRoot(capability) {
    if (!capability.dir) {
      throw new TypeError("an in-memory preopen root must be a directory");
    }
    rootEntries.add(capability);
    return descriptorCreate(capability);
  }
};

// node_modules/@bytecodealliance/preview2-shim/dist/browser/filesystem.js
var DirectoryEntryStream2 = class _DirectoryEntryStream {
  #implementation;
  static _create(implementation) {
    const stream = new _DirectoryEntryStream();
    stream.#implementation = implementation;
    return stream;
  }
  readDirectoryEntry() {
    return this.#implementation.readDirectoryEntry();
  }
};
var directoryEntryStreamCreate = DirectoryEntryStream2._create;
delete DirectoryEntryStream2._create;
var Descriptor2 = class _Descriptor {
  #implementation;
  _getImplementation(descriptor) {
    return descriptor.#implementation;
  }
  static _create(implementation) {
    const descriptor = new _Descriptor();
    descriptor.#implementation = implementation;
    return descriptor;
  }
  readViaStream(offset) {
    return this.#implementation.readViaStream(offset);
  }
  writeViaStream(offset) {
    return this.#implementation.writeViaStream(offset);
  }
  appendViaStream() {
    return this.#implementation.appendViaStream();
  }
  advise(offset, length, advice) {
    return this.#implementation.advise(offset, length, advice);
  }
  syncData() {
    return this.#implementation.syncData();
  }
  getFlags() {
    return this.#implementation.getFlags();
  }
  getType() {
    return this.#implementation.getType();
  }
  setSize(size) {
    return this.#implementation.setSize(size);
  }
  setTimes(dataAccessTimestamp, dataModificationTimestamp) {
    return this.#implementation.setTimes(dataAccessTimestamp, dataModificationTimestamp);
  }
  read(length, offset) {
    return this.#implementation.read(length, offset);
  }
  write(buffer, offset) {
    return this.#implementation.write(buffer, offset);
  }
  readDirectory() {
    return directoryEntryStreamCreate(this.#implementation.readDirectory());
  }
  sync() {
    return this.#implementation.sync();
  }
  createDirectoryAt(path) {
    return this.#implementation.createDirectoryAt(path);
  }
  stat() {
    return this.#implementation.stat();
  }
  statAt(pathFlags, path) {
    return this.#implementation.statAt(pathFlags, path);
  }
  setTimesAt(pathFlags, path, dataAccessTimestamp, dataModificationTimestamp) {
    return this.#implementation.setTimesAt(pathFlags, path, dataAccessTimestamp, dataModificationTimestamp);
  }
  linkAt(oldPathFlags, oldPath, newDescriptor, newPath) {
    return this.#implementation.linkAt(oldPathFlags, oldPath, descriptorGetImplementation(newDescriptor), newPath);
  }
  openAt(pathFlags, path, openFlags, flags) {
    return descriptorCreate2(this.#implementation.openAt(pathFlags, path, openFlags, flags));
  }
  readlinkAt(path) {
    return this.#implementation.readlinkAt(path);
  }
  removeDirectoryAt(path) {
    return this.#implementation.removeDirectoryAt(path);
  }
  renameAt(oldPath, newDescriptor, newPath) {
    return this.#implementation.renameAt(oldPath, descriptorGetImplementation(newDescriptor), newPath);
  }
  symlinkAt(oldPath, newPath) {
    return this.#implementation.symlinkAt(oldPath, newPath);
  }
  unlinkFileAt(path) {
    return this.#implementation.unlinkFileAt(path);
  }
  isSameObject(other) {
    return this.#implementation.isSameObject(descriptorGetImplementation(other));
  }
  metadataHash() {
    return this.#implementation.metadataHash();
  }
  metadataHashAt(pathFlags, path) {
    return this.#implementation.metadataHashAt(pathFlags, path);
  }
  lockShared() {
    return this.#implementation.lockShared?.();
  }
  lockExclusive() {
    return this.#implementation.lockExclusive?.();
  }
  tryLockShared() {
    return this.#implementation.tryLockShared?.() ?? false;
  }
  tryLockExclusive() {
    return this.#implementation.tryLockExclusive?.() ?? false;
  }
  unlock() {
    return this.#implementation.unlock?.();
  }
};
var descriptorGetImplementation = Descriptor2.prototype._getImplementation;
delete Descriptor2.prototype._getImplementation;
var descriptorCreate2 = Descriptor2._create;
delete Descriptor2._create;
var defaultAdapter = new InMemoryFilesystemAdapter();
var types = {
  Descriptor: Descriptor2,
  DirectoryEntryStream: DirectoryEntryStream2,
  filesystemErrorCode: (err) => {
    let message;
    if ("payload" in err) {
      message = err.payload;
    } else if ("message" in err) {
      message = err.message;
    }
    return convertFsError(message);
  }
};
function convertFsError(e) {
  switch (e.code) {
    case "EACCES":
      return "access";
    case "EAGAIN":
    case "EWOULDBLOCK":
      return "would-block";
    case "EALREADY":
      return "already";
    case "EBADF":
      return "bad-descriptor";
    case "EBUSY":
      return "busy";
    case "EDEADLK":
      return "deadlock";
    case "EDQUOT":
      return "quota";
    case "EEXIST":
      return "exist";
    case "EFBIG":
      return "file-too-large";
    case "EILSEQ":
      return "illegal-byte-sequence";
    case "EINPROGRESS":
      return "in-progress";
    case "EINTR":
      return "interrupted";
    case "EINVAL":
      return "invalid";
    case "EIO":
      return "io";
    case "EISDIR":
      return "is-directory";
    case "ELOOP":
      return "loop";
    case "EMLINK":
      return "too-many-links";
    case "EMSGSIZE":
      return "message-size";
    case "ENAMETOOLONG":
      return "name-too-long";
    case "ENODEV":
      return "no-device";
    case "ENOENT":
      return "no-entry";
    case "ENOLCK":
      return "no-lock";
    case "ENOMEM":
      return "insufficient-memory";
    case "ENOSPC":
      return "insufficient-space";
    case "ENOTDIR":
    case "ERR_FS_EISDIR":
      return "not-directory";
    case "ENOTEMPTY":
      return "not-empty";
    case "ENOTRECOVERABLE":
      return "not-recoverable";
    case "ENOTSUP":
      return "unsupported";
    case "ENOTTY":
      return "no-tty";
    // windows gives this error for badly structured `//` reads
    // this seems like a slightly better error than unknown given
    // that it's a common footgun
    case -4094:
    case "ENXIO":
      return "no-such-device";
    case "EOVERFLOW":
      return "overflow";
    case "EPERM":
      return "not-permitted";
    case "EPIPE":
      return "pipe";
    case "EROFS":
      return "read-only";
    case "ESPIPE":
      return "invalid-seek";
    case "ETXTBSY":
      return "text-file-busy";
    case "EXDEV":
      return "cross-device";
    case "UNKNOWN":
      switch (e.errno) {
        case -4094:
          return "no-such-device";
        default:
          throw e;
      }
    default:
      throw e;
  }
}

// node_modules/@bytecodealliance/preview2-shim/dist/browser/random.js
var MAX_BYTES = 65536;
var insecureRandomValue1;
var insecureRandomValue2;
var insecure = {
  getInsecureRandomBytes(len) {
    return random.getRandomBytes(len);
  },
  getInsecureRandomU64() {
    return random.getRandomU64();
  }
};
var insecureSeedValue1;
var insecureSeedValue2;
var insecureSeed = {
  insecureSeed() {
    if (insecureSeedValue1 === void 0 || insecureSeedValue2 === void 0) {
      insecureSeedValue1 = random.getRandomU64();
      insecureSeedValue2 = random.getRandomU64();
    }
    return [insecureSeedValue1, insecureSeedValue2];
  }
};
var random = {
  getRandomBytes(len) {
    const byteLength = checkedU64AsNumber(len, "random byte length");
    const bytes = new Uint8Array(byteLength);
    if (byteLength > MAX_BYTES) {
      for (let generated = 0; generated < byteLength; generated += MAX_BYTES) {
        crypto.getRandomValues(bytes.subarray(generated, generated + MAX_BYTES));
      }
    } else {
      crypto.getRandomValues(bytes);
    }
    return bytes;
  },
  getRandomU64() {
    return crypto.getRandomValues(new BigUint64Array(1))[0];
  },
  // @ts-expect-error Not defined in WIT
  insecureRandom() {
    if (insecureRandomValue1 === void 0 || insecureRandomValue2 === void 0) {
      insecureRandomValue1 = random.getRandomU64();
      insecureRandomValue2 = random.getRandomU64();
    }
    return [insecureRandomValue1, insecureRandomValue2];
  }
};

// node_modules/@bytecodealliance/preview2-shim/dist/browser/sockets.js
var unsupported = () => {
  throw "not-supported";
};
var Network = class {
};
var defaultNetwork = new Network();
var instanceNetwork = {
  instanceNetwork: () => defaultNetwork
};
var network = { Network };
var ResolveAddressStream = class {
  resolveNextAddress = unsupported;
  subscribe = unsupported;
};
var ipNameLookup = {
  ResolveAddressStream,
  resolveAddresses: unsupported
};
var TcpSocket = class {
  startBind = unsupported;
  finishBind = unsupported;
  startConnect = unsupported;
  finishConnect = unsupported;
  startListen = unsupported;
  finishListen = unsupported;
  accept = unsupported;
  localAddress = unsupported;
  remoteAddress = unsupported;
  isListening = unsupported;
  addressFamily = unsupported;
  setListenBacklogSize = unsupported;
  keepAliveEnabled = unsupported;
  setKeepAliveEnabled = unsupported;
  keepAliveIdleTime = unsupported;
  setKeepAliveIdleTime = unsupported;
  keepAliveInterval = unsupported;
  setKeepAliveInterval = unsupported;
  keepAliveCount = unsupported;
  setKeepAliveCount = unsupported;
  hopLimit = unsupported;
  setHopLimit = unsupported;
  receiveBufferSize = unsupported;
  setReceiveBufferSize = unsupported;
  sendBufferSize = unsupported;
  setSendBufferSize = unsupported;
  subscribe = unsupported;
  shutdown = unsupported;
};
var tcpCreateSocket = {
  createTcpSocket: unsupported
};
var tcp = { TcpSocket };
var IncomingDatagramStream = class {
  receive = unsupported;
  subscribe = unsupported;
};
var OutgoingDatagramStream = class {
  checkSend = unsupported;
  send = unsupported;
  subscribe = unsupported;
};
var UdpSocket = class {
  startBind = unsupported;
  finishBind = unsupported;
  stream = unsupported;
  localAddress = unsupported;
  remoteAddress = unsupported;
  addressFamily = unsupported;
  unicastHopLimit = unsupported;
  setUnicastHopLimit = unsupported;
  receiveBufferSize = unsupported;
  setReceiveBufferSize = unsupported;
  sendBufferSize = unsupported;
  setSendBufferSize = unsupported;
  subscribe = unsupported;
};
var udpCreateSocket = {
  createUdpSocket: unsupported
};
var udp = {
  IncomingDatagramStream,
  OutgoingDatagramStream,
  UdpSocket
};

// src/material-instance.js
var KV_QUOTA = 64 * 1024;
var LEVELS = ["trace", "debug", "info", "warn", "error"];
function hostInterface(label, config) {
  const kv = /* @__PURE__ */ new Map();
  let used = 0;
  const size = (key, value) => new TextEncoder().encode(key).length + value.length;
  return {
    log(level, message, fields) {
      const tag = typeof level === "string" ? level : LEVELS[level] ?? "info";
      const method = tag === "error" ? "error" : tag === "warn" ? "warn" : "debug";
      console[method](`[${label}]`, message, Object.fromEntries(fields ?? []));
    },
    config() {
      return config;
    },
    kvGet(key) {
      return kv.get(key);
    },
    kvSet(key, value) {
      if (key === "" || key.length > 256) throw { tag: "invalid-key" };
      const before = kv.has(key) ? size(key, kv.get(key)) : 0;
      const after = used - before + size(key, value);
      if (after > KV_QUOTA) throw { tag: "quota-exceeded", val: BigInt(KV_QUOTA) };
      kv.set(key, value);
      used = after;
    },
    kvDelete(key) {
      if (kv.has(key)) {
        used -= size(key, kv.get(key));
        kv.delete(key);
      }
    }
  };
}
function wasiImports() {
  return {
    "wasi:cli/environment": environment,
    "wasi:cli/exit": exit,
    "wasi:cli/stdin": stdin,
    "wasi:cli/stdout": stdout,
    "wasi:cli/stderr": stderr,
    "wasi:cli/terminal-input": terminalInput,
    "wasi:cli/terminal-output": terminalOutput,
    "wasi:cli/terminal-stdin": terminalStdin,
    "wasi:cli/terminal-stdout": terminalStdout,
    "wasi:cli/terminal-stderr": terminalStderr,
    "wasi:clocks/monotonic-clock": monotonicClock,
    "wasi:clocks/wall-clock": wallClock,
    "wasi:filesystem/types": types,
    "wasi:filesystem/preopens": { getDirectories: () => [] },
    "wasi:io/error": error,
    "wasi:io/poll": poll,
    "wasi:io/streams": streams,
    "wasi:random/random": random,
    "wasi:random/insecure": insecure,
    "wasi:random/insecure-seed": insecureSeed,
    "wasi:sockets/network": network,
    "wasi:sockets/instance-network": instanceNetwork,
    "wasi:sockets/tcp": tcp,
    "wasi:sockets/tcp-create-socket": tcpCreateSocket,
    "wasi:sockets/udp": udp,
    "wasi:sockets/udp-create-socket": udpCreateSocket,
    "wasi:sockets/ip-name-lookup": ipNameLookup
  };
}
async function instantiate(moduleUrl, label, config) {
  const generated = await import(moduleUrl);
  const imports = { ...wasiImports(), "hangar:plugin/host": hostInterface(label, config) };
  return generated.instantiate(
    (file) => WebAssembly.compileStreaming(fetch(new URL(file, moduleUrl))),
    imports
  );
}
function callRender(exports, propsJson) {
  try {
    return { html: exports.render(propsJson) };
  } catch (err) {
    return err && err.payload !== void 0 ? { error: "answered", reason: String(err.payload).slice(0, 200) } : { error: "trapped" };
  }
}

// src/sanitize.js
var ID_PREFIX = "m-";
var TAGS = /* @__PURE__ */ new Set([
  "a",
  "abbr",
  "acronym",
  "area",
  "article",
  "aside",
  "b",
  "bdi",
  "bdo",
  "blockquote",
  "br",
  "caption",
  "center",
  "cite",
  "code",
  "col",
  "colgroup",
  "data",
  "dd",
  "del",
  "details",
  "dfn",
  "div",
  "dl",
  "dt",
  "em",
  "figcaption",
  "figure",
  "footer",
  "h1",
  "h2",
  "h3",
  "h4",
  "h5",
  "h6",
  "header",
  "hgroup",
  "hr",
  "i",
  "img",
  "ins",
  "kbd",
  "li",
  "map",
  "mark",
  "nav",
  "ol",
  "p",
  "pre",
  "q",
  "rp",
  "rt",
  "rtc",
  "ruby",
  "s",
  "samp",
  "small",
  "span",
  "strike",
  "strong",
  "sub",
  "summary",
  "sup",
  "table",
  "tbody",
  "td",
  "th",
  "thead",
  "time",
  "tr",
  "tt",
  "u",
  "ul",
  "var",
  "wbr",
  "form",
  "input",
  "label",
  "select",
  "option",
  "textarea",
  "button",
  "fieldset",
  "legend",
  "section",
  "article",
  "header",
  "footer",
  "figure",
  "figcaption"
]);
var CLEAN_CONTENT = /* @__PURE__ */ new Set(["script", "style"]);
var GENERIC = /* @__PURE__ */ new Set([
  "lang",
  "title",
  "class",
  "role",
  "id",
  "aria-label",
  "aria-hidden",
  "aria-disabled",
  "aria-describedby",
  "aria-labelledby",
  "style"
]);
var ALIGN = ["align", "char", "charoff"];
var PER_TAG = {
  a: ["href", "hreflang", "target"],
  bdo: ["dir"],
  blockquote: ["cite"],
  col: [...ALIGN, "span"],
  colgroup: [...ALIGN, "span"],
  del: ["cite", "datetime"],
  hr: ["align", "size", "width"],
  img: ["align", "alt", "height", "src", "width", "loading"],
  ins: ["cite", "datetime"],
  ol: ["start"],
  q: ["cite"],
  table: [...ALIGN, "summary"],
  tbody: ALIGN,
  td: [...ALIGN, "colspan", "headers", "rowspan"],
  tfoot: ALIGN,
  th: [...ALIGN, "colspan", "headers", "rowspan", "scope"],
  thead: ALIGN,
  tr: ALIGN,
  input: [
    "type",
    "name",
    "value",
    "placeholder",
    "required",
    "disabled",
    "checked",
    "min",
    "max",
    "minlength",
    "maxlength",
    "pattern",
    "autocomplete"
  ],
  textarea: ["name", "placeholder", "required", "rows", "maxlength"],
  select: ["name", "required"],
  option: ["value", "selected"],
  label: ["for"],
  button: ["type", "name", "value", "disabled"],
  // A slot's place, filled by the host (or the designer).
  div: ["data-hangar-slot"]
};
var LINK_SCHEMES = ["http", "https", "mailto"];
var INPUT_TYPES = /* @__PURE__ */ new Set([
  "text",
  "email",
  "number",
  "tel",
  "url",
  "search",
  "date",
  "time",
  "datetime-local",
  "month",
  "week",
  "color",
  "range",
  "checkbox",
  "radio",
  "hidden",
  "submit",
  "reset",
  "button"
]);
var VOID = /* @__PURE__ */ new Set([
  "area",
  "base",
  "basefont",
  "bgsound",
  "br",
  "col",
  "embed",
  "frame",
  "hr",
  "img",
  "input",
  "keygen",
  "link",
  "meta",
  "param",
  "source",
  "track",
  "wbr"
]);
var HTML_NS = "http://www.w3.org/1999/xhtml";
function classify(url) {
  const trimmed = url.replace(/^[\u0000-\u0020]+|[\u0000-\u0020]+$/g, "");
  if (/[\t\n\r\\]/.test(trimmed) || /[\u0000-\u001f\u007f-\u009f]/.test(trimmed)) return { kind: "refused" };
  if (trimmed.startsWith("//")) return { kind: "refused" };
  const end = trimmed.search(/[/?#]/);
  const head = end < 0 ? trimmed : trimmed.slice(0, end);
  const colon = head.indexOf(":");
  return colon >= 0 ? { kind: "absolute", scheme: head.slice(0, colon) } : { kind: "same-origin" };
}
function linkAllowed(url) {
  const c = classify(url);
  if (c.kind === "absolute") return LINK_SCHEMES.includes(c.scheme.toLowerCase());
  return c.kind === "same-origin";
}
function imageAllowed(url) {
  return classify(url).kind === "same-origin" && url.trim() !== "";
}
function isLength(value, auto) {
  if (value === "0" || auto && value === "auto") return true;
  const m = /^([0-9.]*)(.*)$/s.exec(value);
  const number = m[1];
  const unit = m[2];
  return number !== "" && number.length <= 8 && /^(\d+\.?\d*|\.\d+)$/.test(number) && ["px", "em", "rem", "%", "vw", "vh", "ch"].includes(unit);
}
function isLengths(value, auto) {
  const parts = value.split(/[\t\n\f\r ]+/).filter(Boolean);
  return parts.length >= 1 && parts.length <= 4 && parts.every((p) => isLength(p, auto));
}
function isColour(value) {
  if (value.startsWith("#")) {
    const hex = value.slice(1);
    return [3, 4, 6, 8].includes(hex.length) && /^[0-9a-fA-F]*$/.test(hex);
  }
  const fn = /^(?:rgba\(|rgb\()(.*)\)$/s.exec(value);
  if (fn) return fn[1].length <= 40 && /^[0-9 ,.%/]*$/.test(fn[1]);
  return value.length >= 1 && value.length <= 24 && /^[A-Za-z]+$/.test(value);
}
var asciiLower = (s) => s.replace(/[A-Z]/g, (c) => c.toLowerCase());
var trim = (s) => s.replace(/^\s+|\s+$/gu, "");
function cleanStyle(style) {
  const kept = [];
  for (const declaration of style.split(";")) {
    const colon = declaration.indexOf(":");
    if (colon < 0) continue;
    const property = asciiLower(trim(declaration.slice(0, colon)));
    const value = asciiLower(trim(declaration.slice(colon + 1)));
    let ok;
    switch (property) {
      case "color":
      case "background-color":
        ok = isColour(value);
        break;
      case "text-align":
        ok = ["left", "right", "center", "justify", "start", "end"].includes(value);
        break;
      case "font-weight":
        ok = ["normal", "bold", "bolder", "lighter"].includes(value) || value.length === 3 && value.endsWith("00") && /[0-9]/.test(value[0]);
        break;
      case "font-style":
        ok = ["normal", "italic", "oblique"].includes(value);
        break;
      case "object-fit":
        ok = ["contain", "cover", "fill", "none", "scale-down"].includes(value);
        break;
      case "font-size":
      case "border-radius":
      case "max-width":
      case "width":
      case "gap":
        ok = isLengths(value, false);
        break;
      case "padding":
      case "margin":
        ok = isLengths(value, true);
        break;
      default:
        ok = false;
    }
    if (ok) kept.push(`${property}:${value}`);
  }
  return kept.length ? kept.join(";") : null;
}
var prefixedIds = (value) => value.split(/[\t\n\f\r ]+/).filter(Boolean).map((id2) => ID_PREFIX + id2).join(" ");
function filterAttribute(element, attribute, value) {
  if (element === "a" && attribute === "href") {
    const v = trim(value);
    if (v.startsWith("#")) return `#${ID_PREFIX}${v.slice(1)}`;
    return linkAllowed(v) ? v : null;
  }
  if (element === "img" && attribute === "src") return imageAllowed(value) ? value : null;
  if (element === "input" && attribute === "type") {
    return INPUT_TYPES.has(asciiLower(trim(value))) ? value : null;
  }
  if (["id", "for", "aria-labelledby", "aria-describedby"].includes(attribute)) return prefixedIds(value);
  if (attribute === "style") return cleanStyle(value);
  if (element === "div" && attribute === "data-hangar-slot") return /^[a-z0-9-]{1,32}$/.test(value) ? value : null;
  return value;
}
var isUrlAttribute = (element, attribute) => attribute === "href" || attribute === "src" || element === "form" && attribute === "action" || (element === "button" || element === "input") && attribute === "formaction" || element === "a" && attribute === "ping";
function urlPasses(value) {
  try {
    const url = new URL(value);
    return LINK_SCHEMES.includes(url.protocol.slice(0, -1));
  } catch {
    return !/^[\u0000-\u0020]*[A-Za-z][A-Za-z0-9+.-]*:/.test(value);
  }
}
function allowedAttribute(tag, name, value) {
  const listed = GENERIC.has(name) || (PER_TAG[tag] ?? []).includes(name);
  return listed && (!isUrlAttribute(tag, name) || urlPasses(value));
}
function cleanAttributes(element, tag) {
  let attrs = [...element.attributes].filter((a) => a.namespaceURI === null).map((a) => [a.name, a.value]).filter(([name, value]) => allowedAttribute(tag, name, value));
  if (tag === "a") attrs.push(["rel", "noopener noreferrer"]);
  const dropped = [];
  attrs = attrs.map(([name, value], i) => {
    const kept = filterAttribute(tag, name, value);
    if (kept === null) dropped.push(i);
    return [name, kept ?? value];
  });
  for (const i of dropped.reverse()) {
    attrs[i] = attrs[attrs.length - 1];
    attrs.pop();
  }
  return attrs;
}
var escapeText = (s) => s.replace(/[&<>\u00a0]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", " ": "&nbsp;" })[c]);
var escapeAttr = (s) => s.replace(/[&"<>\u00a0]/g, (c) => ({ "&": "&amp;", '"': "&quot;", "<": "&lt;", ">": "&gt;", " ": "&nbsp;" })[c]);
function cleanChildren(node, out) {
  for (const child of node.childNodes) {
    if (child.nodeType === 3) {
      out.push(escapeText(child.data));
    } else if (child.nodeType === 1) {
      const tag = child.localName;
      if (child.namespaceURI === HTML_NS && (CLEAN_CONTENT.has(tag) || tag === "template")) continue;
      if (child.namespaceURI !== HTML_NS || !TAGS.has(tag)) {
        cleanChildren(child, out);
        continue;
      }
      out.push(`<${tag}`);
      for (const [name, value] of cleanAttributes(child, tag)) out.push(` ${name}="${escapeAttr(value)}"`);
      out.push(">");
      if (VOID.has(tag)) continue;
      cleanChildren(child, out);
      out.push(`</${tag}>`);
    }
  }
}
var parser = null;
function parseMaterialHtml(html) {
  parser ??= document.implementation.createHTMLDocument("");
  const box = parser.createElement("div");
  box.innerHTML = html;
  return box;
}
function cleanMaterialFragment(box) {
  const out = [];
  cleanChildren(box, out);
  return out.join("");
}
function sanitizeMaterialHtml(html) {
  return cleanMaterialFragment(parseMaterialHtml(html));
}

// src/materials.js
var HTML_BUDGET = { maxBytes: 256 * 1024, maxDepth: 64 };
var DEADLINE_MS = 1e3;
var MaterialError = class extends Error {
  /**
   * @param {string} code `load-failed`, `invalid-props` or `material-failed`
   * @param {string} message
   * @param {Array<{path: string, message: string}>} [errors] failing props
   */
  constructor(code, message, errors = []) {
    super(message);
    this.name = "MaterialError";
    this.code = code;
    this.errors = errors;
  }
};
var WorkerRunner = class {
  constructor(moduleUrl, label, config, workerUrl) {
    Object.assign(this, { moduleUrl, label, config, workerUrl });
    this.worker = null;
    this.ready = null;
    this.pending = /* @__PURE__ */ new Map();
    this.next = 0;
  }
  start() {
    this.ready ??= new Promise((resolve, reject) => {
      const worker = new Worker(this.workerUrl, { type: "module", name: this.label });
      this.worker = worker;
      worker.onmessage = ({ data }) => {
        if (data.loaded) resolve();
        else if (data.failed !== void 0) reject(new Error(data.failed));
        else this.pending.get(data.id)?.(data);
      };
      worker.onerror = (event) => {
        event.preventDefault();
        reject(new Error(event.message || "the worker failed"));
        this.stop();
      };
      worker.postMessage({ load: this.moduleUrl, label: this.label, config: this.config });
    });
    return this.ready;
  }
  stop() {
    this.worker?.terminate();
    this.worker = null;
    this.ready = null;
    for (const answer of this.pending.values()) answer({ error: "stopped" });
    this.pending.clear();
  }
  async render(propsJson, deadlineMs) {
    await this.start();
    const { worker } = this;
    if (!worker) return { error: "stopped" };
    const id2 = this.next += 1;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.pending.delete(id2);
        this.stop();
        resolve({ error: "timed out" });
      }, deadlineMs);
      this.pending.set(id2, (answer) => {
        clearTimeout(timer);
        this.pending.delete(id2);
        if (answer.error === "trapped") this.stop();
        resolve(answer);
      });
      worker.postMessage({ render: propsJson, id: id2 });
    });
  }
};
var PageRunner = class {
  constructor(moduleUrl, label, config) {
    Object.assign(this, { moduleUrl, label, config });
    this.exports = null;
  }
  async start() {
    this.exports ??= instantiate(this.moduleUrl, this.label, this.config);
    return this.exports;
  }
  async render(propsJson) {
    const answer = callRender(await this.start(), propsJson);
    if (answer.error === "trapped") this.exports = null;
    return answer;
  }
};
function depthOf(node, depth = 0) {
  let max = depth;
  for (const child of node.children) max = Math.max(max, depthOf(child, depth + 1));
  return max;
}
var Material = class {
  constructor(info, runner, validator, options) {
    this.info = info;
    this.runner = runner;
    this.validator = validator;
    this.budget = options.budget ?? HTML_BUDGET;
    this.deadlineMs = options.deadlineMs ?? DEADLINE_MS;
  }
  /**
   * Checks props against the material's schema.
   * @param {object} props
   * @returns {Array<{path: string, message: string}>} each failing prop (none when valid)
   */
  validate(props) {
    const result = this.validator.validate(props);
    if (result.valid) return [];
    const seen = /* @__PURE__ */ new Set();
    const errors = result.errors.map((e) => ({ path: e.instanceLocation.replace(/^#/, ""), message: e.error })).filter((e) => !seen.has(e.path) && seen.add(e.path));
    const precise = errors.filter((e) => e.path !== "");
    return precise.length ? precise : errors;
  }
  /**
   * Renders props: validated, rendered by the component (in its worker,
   * within the deadline), checked against the server's HTML budget and
   * sanitised by its rules.
   * @param {object} props
   * @returns {Promise<string>} the HTML the server would answer for the same props
   * @throws {MaterialError} `invalid-props` (with `errors`) or `material-failed`
   */
  async render(props) {
    const reference = `${this.info.name}@${this.info.version}`;
    const errors = this.validate(props);
    if (errors.length) {
      throw new MaterialError("invalid-props", `props do not match the schema of ${reference}`, errors);
    }
    const answer = await this.runner.render(JSON.stringify(props), this.deadlineMs);
    if (answer.error) {
      const reason = answer.error === "answered" ? `it answered: ${answer.reason}` : answer.error === "timed out" ? `it ran past its ${this.deadlineMs} ms deadline in the page` : `it ${answer.error}`;
      throw new MaterialError("material-failed", `material ${reference} failed: ${reason}`);
    }
    const { html } = answer;
    const bytes = new TextEncoder().encode(html).length;
    if (bytes > this.budget.maxBytes) {
      throw new MaterialError("material-failed", `material ${reference} failed: answered over its output budget`);
    }
    const parsed = parseMaterialHtml(html);
    if (depthOf(parsed) > this.budget.maxDepth) {
      throw new MaterialError("material-failed", `material ${reference} failed: answered over its output budget`);
    }
    return cleanMaterialFragment(parsed);
  }
};
var loads = /* @__PURE__ */ new Map();
function loadMaterial(name, version, options = {}) {
  const base = options.base ?? location.origin;
  const key = `${base} ${name}@${version}`;
  if (!loads.has(key)) {
    const load = loadNow(name, version, base, options);
    loads.set(key, load);
    load.catch(() => loads.delete(key));
  }
  return loads.get(key);
}
async function loadNow(name, version, base, options) {
  const reference = `${name}@${version}`;
  const response = await fetch(new URL(`/api/materials/${encodeURIComponent(name)}@${encodeURIComponent(version)}`, base));
  const body = await response.json().catch(() => null);
  if (!response.ok) {
    throw new MaterialError("load-failed", body?.error?.message ?? `cannot load ${reference}: HTTP ${response.status}`);
  }
  if (!body.module) throw new MaterialError("load-failed", `the server offers no browser module for ${reference}`);
  const moduleUrl = new URL(body.module, base).href;
  const config = options.config ?? "{}";
  let runner;
  try {
    if (new URL(base).origin === location.origin && typeof Worker !== "undefined") {
      runner = new WorkerRunner(moduleUrl, reference, config, new URL("/sdk/js/material-worker.js", base));
      await runner.start();
    } else {
      runner = new PageRunner(moduleUrl, reference, config);
      await runner.start();
    }
  } catch (err) {
    runner?.stop?.();
    throw new MaterialError("load-failed", `cannot load ${reference} in the page: ${err.message}`);
  }
  const validator = new Validator(body.props_schema, "2020-12", false);
  return new Material(body, runner, validator, options);
}
export {
  DEADLINE_MS,
  HTML_BUDGET,
  Material,
  MaterialError,
  loadMaterial,
  sanitizeMaterialHtml
};
