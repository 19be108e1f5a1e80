// A real, unmodified HERE batch client (node-geocoder's HERE provider) against our server.
// Only the endpoint it talks to is changed, from outside the library, the way a hosts file
// would: its code, requests and parsing are its own.
//   node node_geocoder_client.js NODE_MODULES_DIR BASE_URL API_KEY  (addresses on stdin, one a line)
'use strict';
const path = require('path');
const [modules, base, apiKey] = process.argv.slice(2);
const NodeGeocoder = require(path.join(modules, 'node-geocoder'));
const input = require('fs').readFileSync(0, 'utf8').split('\n').filter(Boolean);
const geocoder = NodeGeocoder({ provider: 'here', apiKey, country: 'LIE' });
Object.defineProperty(geocoder._geocoder, '_batchGeocodeEndpoint', { value: `${base}/6.2/jobs` });
geocoder.batchGeocode(input, (err, results) => {
  if (err) {
    console.error('client error: ' + (err.message || err));
    process.exit(1);
  }
  for (const r of results) {
    const v = r.value[0] || {};
    console.log([r.error || '', v.latitude, v.longitude, v.streetName, v.streetNumber, v.city,
                 v.zipcode, v.countryCode, v.formattedAddress].join('|'));
  }
});
